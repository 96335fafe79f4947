export { ConfigSchema, type Config, type LocalStoreConfig } from './schema.js';
export {
  loadConfig,
  configFromObject,
  resolveFromConfig,
  formatIssues,
  type LoadedConfig,
  type LoadOptions,
} from './load.js';
