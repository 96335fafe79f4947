export {
  ConfigSchema,
  ASYMMETRIC_ALGORITHMS,
  type Config,
  type LocalStoreConfig,
  type DecisionLogConfig,
  type IssuerConfig,
  type RouteConfig,
  type ClaimMapping,
} from './schema.js';
export {
  loadConfig,
  configFromObject,
  resolveFromConfig,
  formatIssues,
  type LoadedConfig,
  type LoadOptions,
} from './load.js';
