import { suggestKey } from './suggest.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { StartupError } from '../core/errors.js';
import { ConfigSchema, type Config } from './schema.js';

/** A validated config plus where it came from (relative paths resolve against `baseDir`). */
export interface LoadedConfig {
  config: Config;
  /** The config file, or undefined for the embedded default. */
  file?: string;
  /** Folder that relative paths in the config are resolved against. */
  baseDir: string;
}

export interface LoadOptions {
  /** `--config PATH`; wins over `AUTHZ_CONFIG`. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Reads the YAML config (from `--config`, else `AUTHZ_CONFIG`, else none), applies env overrides
 * (`AUTHZ_HOST`, `AUTHZ_PORT`) and validates it. Throws a StartupError that lists every problem,
 * each naming its key and the file.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const chosen = options.configPath ?? (env.AUTHZ_CONFIG || undefined);
  const file = chosen ? path.resolve(cwd, chosen) : undefined;
  const source = file ?? 'the embedded default config';

  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new StartupError(
        `config file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new StartupError(`config file ${file}: invalid YAML: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new StartupError(`config file ${file}: the top level must be a mapping of keys`);
    }
  }

  const withEnv = applyEnvOverrides(raw as Record<string, unknown>, env, source);
  return { ...configFromObject(withEnv, file ? path.dirname(file) : cwd, source), ...(file ? { file } : {}) };
}

/** Validates an already-parsed config object (tests and embedders build configs this way). */
export function configFromObject(raw: unknown, baseDir: string, source = 'the given config'): LoadedConfig {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StartupError(
      `invalid configuration in ${source}:\n${formatIssues(parsed.error.issues, ConfigSchema)}`,
    );
  }
  return { config: parsed.data, baseDir };
}

function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, source: string) {
  const overrides: Record<string, unknown> = {};
  if (env.AUTHZ_HOST) overrides.host = env.AUTHZ_HOST;
  if (env.AUTHZ_PORT) {
    // Digits only: Number() would also take " " (0, a random port), "0x50" or "1e3".
    const port = /^\d{1,5}$/.test(env.AUTHZ_PORT) ? Number(env.AUTHZ_PORT) : NaN;
    if (!(port <= 65535)) {
      throw new StartupError(
        `AUTHZ_PORT (overriding server.port of ${source}): ${JSON.stringify(env.AUTHZ_PORT)} is not a port number (0-65535)`,
      );
    }
    overrides.port = port;
  }
  if (Object.keys(overrides).length === 0) return raw;
  const server = raw.server;
  // A `server` that is not a mapping stays as it is, so the schema reports it instead of the
  // override silently replacing it.
  if (server !== undefined && (server === null || typeof server !== 'object' || Array.isArray(server)))
    return raw;
  return { ...raw, server: { ...(server as Record<string, unknown> | undefined), ...overrides } };
}

/** One line per problem: `- key "server.port": expected number, received string`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], schema?: z.ZodType): string {
  return issues
    .map((issue) => {
      const where = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys
          .map((k) => {
            const near = schema ? suggestKey(schema, issue.path, k) : undefined;
            return `- key "${where ? `${where}.${k}` : k}": unknown key${near ? ` (did you mean ${near}?)` : ''}`;
          })
          .join('\n');
      }
      return `- key "${where || '(top level)'}": ${issue.message.replace(/^Invalid input: /, '')}`;
    })
    .join('\n');
}

/** Resolves a path from the config against the config's folder. */
export function resolveFromConfig(loaded: LoadedConfig, p: string): string {
  return path.resolve(loaded.baseDir, p);
}
