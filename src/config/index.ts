export { ConfigSchema, type Config, type DecisionLogConfig, type LocalStoreConfig } from './schema.js';
export {
  loadConfig,
  configFromObject,
  resolveFromConfig,
  formatIssues,
  type LoadedConfig,
  type LoadOptions,
} from './load.js';
