import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createDecisionCache, type DecisionCache } from './cache/index.js';
import { resolveFromConfig, type LoadedConfig } from './config/index.js';
import { createHttpApp } from './doors/http/app.js';
import { mountMetrics } from './doors/http/metrics.js';
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

/**
 * Caller types that get their own `caller_type` label value; any other is counted as `other`.
 * Configured classifier types (for example `internal`) join this set when identity lands.
 */
export const KNOWN_CALLER_TYPES = ['user', 'service'] as const;

export interface Sidecar {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8181`. */
  url: string;
  port: number;
  pipeline: Pipeline;
  stores: StoreRegistry;
  /** The sidecar's own metrics registry and counters (the identifier reports token verifications here). */
  metrics: Metrics;
  close(): Promise<void>;
}

/**
 * Wires config → stores → pipeline → doors and starts listening. Throws StartupError when the
 * config or a store is bad, before anything listens.
 */
export async function startSidecar(loaded: LoadedConfig, logger: Logger): Promise<Sidecar> {
  const { config } = loaded;
  const metrics = createMetrics({
    callerTypes: KNOWN_CALLER_TYPES,
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

  const pipeline = createPipeline({ stores, observers, metrics, ...(cache ? { cache } : {}) });
  const mounts: ((app: Hono) => void)[] = config.metrics.enabled ? [mountMetrics(metrics.registry)] : [];
  const app = createHttpApp({
    pipeline,
    stores,
    bodyLimitBytes: config.server.bodyLimitBytes,
    logger,
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
    async close() {
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
