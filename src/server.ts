import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { LoadedConfig } from './config/index.js';
import { createHttpApp } from './doors/http/app.js';
import { StartupError } from './errors.js';
import { ensureDevKeys } from './identity/dev-issuer.js';
import { createIdentifier, type CallerCache } from './identity/identifier.js';
import type { Logger } from './observability/logger.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.js';
import { createStoreRegistry, type StoreRegistry } from './policy/registry.js';
import { createRouter } from './routing/index.js';

export interface Sidecar {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8181`. */
  url: string;
  port: number;
  pipeline: Pipeline;
  stores: StoreRegistry;
  /** The HTTP routes as served (tests check every mounted route against openapi.yaml). */
  app: Hono;
  close(): Promise<void>;
}

export interface SidecarOptions {
  /** Verified-token cache; none means every request verifies its token. */
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
  const stores = createStoreRegistry(loaded, {
    onReload: ({ store, result }) => {
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

  const identifier = createIdentifier({
    issuers: config.issuers,
    baseDir: loaded.baseDir,
    maxTokenBytes: config.maxTokenBytes,
    ...(options.callerCache ? { cache: options.callerCache } : {}),
  });
  await identifier.start();
  const issuerStatus = identifier.readiness.check();
  if (!issuerStatus.ready)
    logger.error(
      { issuers: issuerStatus.detail },
      'issuer keys not loaded; /readyz stays red until they load',
    );

  const pipeline = createPipeline({ stores, identifier, router: createRouter(config.routes) });
  const app = createHttpApp({
    pipeline,
    stores,
    bodyLimitBytes: config.server.bodyLimitBytes,
    batchLimit: config.server.batchLimit,
    logger,
    readiness: config.issuers.length ? [identifier.readiness] : [],
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.server.port, hostname: config.server.host }, () =>
      resolve(s),
    );
    s.once('error', reject);
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
    },
  };
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
