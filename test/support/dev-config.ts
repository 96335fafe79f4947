import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configFromObject } from '../../src/config/index.js';
import { ensureDevKeys, mintDevToken, type DevTokenOptions } from '../../src/identity/dev-issuer.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { startSidecar, type Sidecar } from '../../src/server.js';
import { REPO_ROOT } from './sidecar.js';

const CONFIG_DIR = path.join(REPO_ROOT, 'config');

export interface DevSidecar {
  sidecar: Sidecar;
  /** Mints a token from this run's development key. */
  token(options: Omit<DevTokenOptions, 'keyDir'>): Promise<string>;
}

/**
 * Starts the sidecar with config/dev.yaml itself (its stores, issuers, routes, httpRoutes and
 * AuthZEN mapping), changed only where a test must: a fresh key folder, free ports, no watching.
 */
export async function startDevSidecar(
  overrides: Record<string, unknown> = {},
  options: { logger?: Logger } = {},
): Promise<DevSidecar> {
  const raw = parseYaml(readFileSync(path.join(CONFIG_DIR, 'dev.yaml'), 'utf8')) as Record<string, unknown>;
  const keyDir = mkdtempSync(path.join(tmpdir(), 'authz-dev-keys-'));
  await ensureDevKeys(keyDir);
  const issuers = (raw.issuers as Record<string, unknown>[]).map((i) => ({
    ...i,
    jwksFile: path.join(keyDir, 'jwks.json'),
  }));
  const config = {
    ...raw,
    dev: {},
    issuers,
    server: { port: 0 },
    policies: { ...(raw.policies as object), watch: false },
    grpc: { ...(raw.grpc as object), port: 0 },
    ...overrides,
  };
  const sidecar = await startSidecar(
    configFromObject(config, CONFIG_DIR),
    options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  );
  return { sidecar, token: (options) => mintDevToken({ ...options, keyDir }) };
}
