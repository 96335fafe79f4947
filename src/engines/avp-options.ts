import type {
  VerifiedPermissionsClient,
  VerifiedPermissionsClientConfig,
} from '@aws-sdk/client-verifiedpermissions';
import type { AvpCallOutcome, AvpOperation } from '../avp/calls.js';
import type { Entity } from '../cedar/types.js';
import type { AvpStoreConfig } from '../config/index.js';
import type { CircuitState } from './resilience.js';

/** The AVP engine's options, its observer port (metrics implement it) and its counters. */

export interface AvpObserver {
  /** One call attempt to AVP (or one refused by the open circuit). */
  call?(event: {
    store: string;
    operation: AvpOperation;
    outcome: AvpCallOutcome;
    durationSeconds: number;
  }): void;
  circuit?(event: { store: string; state: CircuitState }): void;
}

/** Counters since start, for tests, benchmarks and metric collectors that read at scrape time. */
export interface AvpCounters {
  /** Call attempts sent to AVP, by operation (refusals by the open circuit are not calls). */
  calls: Record<AvpOperation, number>;
  /** Attempts (and circuit refusals) by outcome. */
  outcomes: Record<AvpCallOutcome, number>;
  retries: number;
  /** Decisions this engine answered, by result; `failed` ones were denied (fail closed). */
  decisions: { evaluated: number; invalid: number; failed: number };
  circuitOpened: number;
}

export interface AvpEngineOptions {
  name: string;
  config: AvpStoreConfig;
  /** Entities sent with every request (the config's `entitiesFile`). */
  staticEntities?: Entity[];
  /** A ready client (tests); otherwise one is built from the config. */
  client?: VerifiedPermissionsClient;
  /** Test/embedder-only SDK settings such as static credentials; never from config. */
  sdk?: Partial<VerifiedPermissionsClientConfig>;
  observer?: AvpObserver;
  now?: () => number;
  random?: () => number;
}
