import { z } from 'zod';

/**
 * The one configuration schema. Every key has a default, so an empty file (or no file) is the
 * embedded default: HTTP on 127.0.0.1:8181 and every folder under `policies/` a local store.
 * Objects are strict: an unknown key is an error, never silently ignored.
 */

const ServerSchema = z.strictObject({
  /** Address the HTTP server binds. Default `127.0.0.1`: the sidecar serves its own host. */
  host: z.string().min(1).default('127.0.0.1'),
  /** HTTP port. Default 8181; 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(8181),
  /** Largest request body accepted, in bytes; larger bodies answer 413. Default 1 MiB (AVP's limit). */
  bodyLimitBytes: z.number().int().positive().default(1_048_576),
  /** Grace period for in-flight requests on SIGTERM, in milliseconds. */
  shutdownGraceMs: z.number().int().min(0).default(5_000),
});

const PoliciesSchema = z.strictObject({
  /** Folder whose sub-folders are local policy stores (one store per folder). Default `policies`. */
  dir: z.string().min(1).default('policies'),
  /** Reload a store when its files change. Default true. */
  watch: z.boolean().default(true),
  /** Quiet period after the last change before reloading, in milliseconds. */
  reloadDebounceMs: z.number().int().min(0).default(150),
});

const LocalStoreSchema = z.strictObject({
  engine: z.literal('local').default('local'),
  /** Folder of the store; default `<policies.dir>/<store name>`. */
  path: z.string().min(1).optional(),
});

const LogSchema = z.strictObject({
  /** Level of the process log (not the decision log). */
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const DecisionCacheSchema = z.strictObject({
  /** Serve repeated decisions from memory. Default true; false evaluates every request. */
  enabled: z.boolean().default(true),
  /** Entries kept per policy store; the least recently used is evicted beyond it. Default 10,000. */
  maxEntries: z.number().int().positive().default(10_000),
  /**
   * How long an ALLOW is served from the cache, in milliseconds. Default 60,000. A policy reload
   * invalidates at once whatever the TTL (the store version is part of the key).
   */
  allowTtlMs: z.number().int().min(0).default(60_000),
  /** How long an evaluated DENY is served from the cache, in milliseconds; 0 never caches one. Default 10,000. */
  denyTtlMs: z.number().int().min(0).default(10_000),
});

const TokenCacheSchema = z.strictObject({
  /** Remember verified tokens so a repeated token skips the signature check. Default true. */
  enabled: z.boolean().default(true),
  /** Verified tokens kept; the least recently used is evicted beyond it. Default 10,000. */
  maxEntries: z.number().int().positive().default(10_000),
  /** Longest time a verified token is trusted without a new check, in milliseconds (never past `exp`). Default 300,000. */
  ttlMs: z.number().int().positive().default(300_000),
});

const CacheSchema = z.strictObject({
  decisions: DecisionCacheSchema.prefault({}),
  tokens: TokenCacheSchema.prefault({}),
});

const MetricsSchema = z.strictObject({
  /** Serve Prometheus metrics at `GET /metrics` on the HTTP server. Default true. */
  enabled: z.boolean().default(true),
  /** Include prom-client's default process and Node.js metrics. Default true. */
  defaultMetrics: z.boolean().default(true),
});

const DecisionLogSchema = z.strictObject({
  /** Write one JSON line per decision. Default true. */
  enabled: z.boolean().default(true),
  /** `stdout` (default), `stderr`, or a file path (relative to the config file; appended to). */
  destination: z.string().min(1).default('stdout'),
  /** Log only DENY decisions. Default false. */
  onlyDenies: z.boolean().default(false),
  /** Fraction of ALLOW decisions logged, 0 to 1; every DENY is logged. Default 1. */
  allowSampleRate: z.number().min(0).max(1).default(1),
  /**
   * Paths in the log line whose value is replaced by `"***"`, e.g. `context.accountNumber` or
   * `context.card.*` (pino redact syntax). Default none.
   */
  maskPaths: z.array(z.string().min(1)).default([]),
  /**
   * Lines held in memory while the destination is busy; beyond it lines are dropped and counted in
   * `authz_decision_logs_dropped_total`, so logging never slows a decision. Default 10,000.
   */
  bufferSize: z.number().int().positive().default(10_000),
});

export const ConfigSchema = z.strictObject({
  server: ServerSchema.prefault({}),
  policies: PoliciesSchema.prefault({}),
  /**
   * Explicit stores by name. When absent, every folder under `policies.dir` is a local store;
   * when present, only the stores listed here are served.
   */
  stores: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'store names use letters, digits, _ . -'), LocalStoreSchema)
    .optional(),
  log: LogSchema.prefault({}),
  cache: CacheSchema.prefault({}),
  metrics: MetricsSchema.prefault({}),
  decisionLog: DecisionLogSchema.prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type LocalStoreConfig = z.infer<typeof LocalStoreSchema>;
export type DecisionLogConfig = z.infer<typeof DecisionLogSchema>;
