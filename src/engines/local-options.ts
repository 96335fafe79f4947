/**
 * The local engine's options and the observer port it declares (observability implements it),
 * apart from the engine so that config and observability read them without the engine's imports.
 */
import type { SlicingMode } from '../config/schema.js';
import type { EngineAnswer } from '../core/engine.js';
import type { SliceFaults } from '../policy/slicing/entity-graph.js';
import type { SliceStats } from './slicing/stats.js';

export type ReloadResult = { ok: true; version: string; changed: boolean } | { ok: false; error: string };

/** Which evaluator decides: our TypeScript evaluator (`native`) or cedar-wasm (`wasm`). */
export type Evaluator = 'native' | 'wasm';

/**
 * What the engine reports about its evaluator; observability implements it (metrics, log). Every
 * hook is optional and must not throw.
 */
export interface EvaluatorObserver {
  /** A version runs on an evaluator; `reason` says why it is not the one configured. */
  serving?(store: string, evaluator: Evaluator, reason?: string): void;
  /** A sampled native decision disagreed with cedar-wasm's answer on the same request. */
  mismatch?(store: string, detail: { decisionId?: string; native: EngineAnswer; wasm: EngineAnswer }): void;
}

export interface LocalEngineOptions {
  /** `native` (default) or `wasm`. A version the native evaluator cannot run falls back to `wasm`. */
  evaluator?: Evaluator;
  /**
   * Verification of the native evaluator: a fraction of its decisions are decided again by
   * cedar-wasm after the answer has gone out; a disagreement is reported and, with `switch`
   * (default), the version is decided by cedar-wasm from then on (until the next version).
   */
  verify?: { sampleRate: number; onMismatch: 'switch' | 'count' };
  evaluatorObserver?: EvaluatorObserver;
  /** For the verification sample; default Math.random. */
  random?: () => number;
  /** Scope slicing: `on`, `off`, or `auto` (on when a version has at least `autoThreshold` policies). */
  slicing?: { mode: SlicingMode; autoThreshold: number; cacheSize: number };
  /** Receives policies evaluated per decision and slice cache hits, misses and size. */
  stats?: SliceStats;
  /** Test-only: deliberate slicing mistakes, to prove the differential test catches them. */
  faults?: SliceFaults;
  /** Prefix of cedar-wasm's preparse ids (unique per process); default `local:<name>`. */
  idPrefix?: string;
}
