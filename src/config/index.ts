export {
  ConfigSchema,
  ASYMMETRIC_ALGORITHMS,
  type Config,
  type LocalStoreConfig,
  type DecisionLogConfig,
  type AvpStoreConfig,
  type AvpSyncStoreConfig,
  type StoreConfig,
  type AvpDoorConfig,
  type SlicingConfig,
  type SlicingMode,
  type IssuerConfig,
  type RouteConfig,
  type ClaimMapping,
} from './schema.js';
export type {
  AuthzenConfig,
  ExtAuthzConfig,
  GrpcConfig,
  HttpRouteConfig,
  HttpRoutesConfig,
} from './doors.js';
export {
  loadConfig,
  configFromObject,
  resolveFromConfig,
  formatIssues,
  type LoadedConfig,
  type LoadOptions,
} from './load.js';
