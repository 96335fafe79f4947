import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createDecisionCache, createTokenCache, type DecisionCache, type TokenCache } from './cache/index.js';
import { resolveFromConfig, type Config, type LoadedConfig } from './config/index.js';
import { createHttpApp } from './doors/http/app.js';
import { mountMetrics } from './doors/http/metrics.js';
import { StartupError } from './errors.js';
import { ensureDevKeys } from './identity/dev-issuer.js';
import { createIdentifier, type CallerCache } from './identity/identifier.js';
import type { Caller } from './identity/types.js';
import {
  createDecisionLog,
  openLogSink,
  type DecisionLog,
  type OwnedSink,
} from './observability/decision-log.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createPipeline, type DecisionObserver, type Pipeline } from './pipeline/pipeline.js';
import { createStoreRegistry, type StoreRegistry } from './policy/registry.js';
import { createRouter } from './routing/index.js';

/**
 * The caller types that get their own `caller_type` label value: `user`, `service` and every type
 * the config names (issuers' user types and rules, routes). Any other is counted as `other`.
 */
export function knownCallerTypes(config: Config): string[] {
  return [
    ...new Set([
      'user',
      'service',
      ...config.issuers.flatMap((i) => [i.userCallerType, ...i.callerTypeRules.map((r) => r.callerType)]),
      ...config.routes.flatMap((r) => (r.callerType ? [r.callerType] : [])),
    ]),
  ];
}

export interface Sidecar {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8181`. */
  url: string;
  port: number;
  pipeline: Pipeline;
  stores: StoreRegistry;
  /** The sidecar's own metrics registry and counters (the identifier reports token verifications here). */
  metrics: Metrics;
  /** The HTTP routes as served (tests check every mounted route against openapi.yaml). */
  app: Hono;
  close(): Promise<void>;
}

export interface SidecarOptions {
  /** Verified-token cache; by default one built from `cache.tokens` (none when it is disabled). */
  callerCache?: CallerCache;
}

/**
 * Wires config → stores → identity and routing → pipeline → doors, and starts listening. Throws
 * StartupError when the config or a store is bad, before anything listens.
 */
export async function startSidecar(
  loaded: LoadedConfig,
  logger: Logger,
  options: SidecarOptions = {},
): Promise<Sidecar> {
  const { config } = loaded;
  const metrics = createMetrics({
    callerTypes: knownCallerTypes(config),
    defaultMetrics: config.metrics.defaultMetrics,
    stores: { statuses: () => stores.statuses() },
  });
  const stores = createStoreRegistry(loaded, {
    onReload: ({ store, result }) => {
      metrics.policyReload(store, !result.ok ? 'failure' : result.changed ? 'success' : 'unchanged');
      if (result.ok && result.changed)
        logger.info({ store, version: result.version }, 'policy store reloaded');
      else if (!result.ok)
        logger.error(
          { store, error: result.error },
          'policy store reload failed; the last good version keeps serving',
        );
    },
  });
  for (const s of stores.statuses())
    logger.info({ store: s.name, version: s.version, policies: s.policies }, 'policy store loaded');
  checkRoutes(loaded, stores);

  if (config.dev.keyDir) {
    const { created, jwksFile } = await ensureDevKeys(path.resolve(loaded.baseDir, config.dev.keyDir));
    logger.warn(
      { jwksFile, created },
      'DEVELOPMENT ISSUER ACTIVE: tokens minted with `authz-sidecar token` are trusted. Never run this config in production.',
    );
  }

  const tokens = config.cache.tokens;
  let tokenCache: TokenCache<Caller> | undefined;
  if (tokens.enabled) {
    tokenCache = createTokenCache<Caller>({
      maxEntries: tokens.maxEntries,
      ttlMs: tokens.ttlMs,
      metrics: metrics.cache('tokens', () => tokenCache?.size() ?? 0),
    });
  }
  const callerCache = options.callerCache ?? tokenCache;
  const identifier = createIdentifier({
    issuers: config.issuers,
    baseDir: loaded.baseDir,
    maxTokenBytes: config.maxTokenBytes,
    ...(callerCache ? { cache: callerCache } : {}),
    onVerification: metrics.tokenVerification,
    onLookup: metrics.identityLookup,
  });
  await identifier.start();
  const issuerStatus = identifier.readiness.check();
  if (!issuerStatus.ready)
    logger.error(
      { issuers: issuerStatus.detail },
      'issuer keys not loaded; /readyz stays red until they load',
    );

  const observers: DecisionObserver[] = [metrics.observer];
  let logSink: OwnedSink | undefined;
  let decisionLog: DecisionLog | undefined;
  const log = config.decisionLog;
  if (log.enabled) {
    const destination =
      log.destination === 'stdout' || log.destination === 'stderr'
        ? log.destination
        : resolveFromConfig(loaded, log.destination);
    logSink = openLogSink(destination, (err) =>
      logger.error({ err: { message: err.message } }, 'decision log destination failed'),
    );
    decisionLog = createDecisionLog(log, { sink: logSink, onDrop: metrics.decisionLogDropped });
    observers.push(decisionLog);
  }

  let cache: DecisionCache | undefined;
  if (config.cache.decisions.enabled) {
    cache = createDecisionCache({
      ...config.cache.decisions,
      metrics: metrics.cache('decisions', () => cache?.size() ?? 0),
    });
  }

  const pipeline = createPipeline({
    stores,
    identifier,
    router: createRouter(config.routes),
    observers,
    metrics,
    ...(cache ? { cache } : {}),
  });
  const mounts: ((app: Hono) => void)[] = config.metrics.enabled ? [mountMetrics(metrics.registry)] : [];
  const app = createHttpApp({
    pipeline,
    stores,
    bodyLimitBytes: config.server.bodyLimitBytes,
    batchLimit: config.server.batchLimit,
    logger,
    readiness: config.issuers.length ? [identifier.readiness] : [],
    mounts,
    ...(config.metrics.enabled ? { recordRequest: metrics.httpRequest } : {}),
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.server.port, hostname: config.server.host }, () =>
      resolve(s),
    );
    s.once('error', reject);
  }).catch(async (err: unknown) => {
    await stores.close();
    await logSink?.close();
    throw err;
  });
  const { port } = server.address() as AddressInfo;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${port}`;
  logger.info({ url }, 'authz-sidecar listening');

  return {
    url,
    port,
    pipeline,
    stores,
    metrics,
    app,
    async close() {
      identifier.stop();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
          resolve();
        }, config.server.shutdownGraceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      });
      await stores.close();
      // Whatever the log still buffers goes out, unless its destination is stuck.
      if (decisionLog) await withTimeout(decisionLog.flush(), config.server.shutdownGraceMs);
      await logSink?.close(config.server.shutdownGraceMs);
    },
  };
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(
    () => clearTimeout(timer),
  );
}

/** A route to a store or issuer that does not exist is a config error, not a silent DENY later. */
function checkRoutes(loaded: LoadedConfig, stores: StoreRegistry): void {
  const issuers = new Set(loaded.config.issuers.map((i) => i.name));
  const problems: string[] = [];
  loaded.config.routes.forEach((r, i) => {
    if (r.store !== undefined && !stores.get(r.store))
      problems.push(`- key "routes.${i}.store": no policy store named "${r.store}"`);
    if (r.issuer !== undefined && !issuers.has(r.issuer))
      problems.push(`- key "routes.${i}.issuer": no issuer named "${r.issuer}"`);
  });
  const seen = new Set<string>();
  loaded.config.issuers.forEach((iss, i) => {
    if (seen.has(iss.issuer))
      problems.push(`- key "issuers.${i}.issuer": "${iss.issuer}" is configured twice`);
    seen.add(iss.issuer);
  });
  if (problems.length)
    throw new StartupError(
      `invalid configuration in ${loaded.file ?? 'the given config'}:\n${problems.join('\n')}`,
    );
}
