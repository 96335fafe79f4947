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
});

export type Config = z.infer<typeof ConfigSchema>;
export type LocalStoreConfig = z.infer<typeof LocalStoreSchema>;
