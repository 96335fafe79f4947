import type {
  VerifiedPermissionsClient,
  VerifiedPermissionsClientConfig,
} from '@aws-sdk/client-verifiedpermissions';
import type { Entity } from '../cedar/types.js';
import type { AvpSyncStoreConfig } from '../config/index.js';
import type { TemplateLink } from '../policy/types.js';
import type { LocalEngineOptions } from './local.js';
import type { SliceStats } from './slicing/stats.js';

/** The avp-sync engine's options, its observer port, and what a sync keeps between runs. */

/** The policy-management reads a sync makes. */
export type AvpSyncOperation =
  'ListPolicies' | 'GetPolicy' | 'ListPolicyTemplates' | 'GetPolicyTemplate' | 'GetSchema';

export interface SyncResult {
  ok: boolean;
  /** A new version was activated. */
  changed: boolean;
  version?: string;
  error?: string;
  /** Policies and templates fetched one by one in this sync (only new or changed ones are). */
  fetched: { policies: number; templates: number };
  durationSeconds: number;
}

/** Hooks for metrics and logs. `syncAgeSeconds()` on the engine is meant to be read at scrape time. */
export interface AvpSyncObserver {
  sync?(event: { store: string; result: SyncResult }): void;
}

export interface AvpSyncEngineOptions extends Pick<
  LocalEngineOptions,
  'evaluator' | 'verify' | 'evaluatorObserver'
> {
  name: string;
  config: AvpSyncStoreConfig;
  /** Entities the store always has (the config's `entitiesFile`); AVP stores none. */
  staticEntities?: Entity[];
  client?: VerifiedPermissionsClient;
  /** Test/embedder-only SDK settings such as static credentials; never from config. */
  sdk?: Partial<VerifiedPermissionsClientConfig>;
  observer?: AvpSyncObserver;
  now?: () => number;
  /** Timeout of one policy-management call, in milliseconds. Default 10 s. */
  callTimeoutMs?: number;
  /** Scope slicing of the pulled policies, as for a local store (default: none, every policy evaluated). */
  slicing?: LocalEngineOptions['slicing'];
  /** Receives the slicing statistics (policies evaluated per decision, slice cache). */
  sliceStats?: SliceStats;
}

export type PolicyEntry =
  | { lastUpdated: string; kind: 'static'; statement: string }
  | { lastUpdated: string; kind: 'link'; link: TemplateLink };

export interface TemplateEntry {
  lastUpdated: string;
  statement: string;
}

export interface Snapshot {
  policies: Map<string, PolicyEntry>;
  templates: Map<string, TemplateEntry>;
  schema: string | undefined;
}
