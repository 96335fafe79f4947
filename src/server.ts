import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { LoadedConfig } from './config/index.js';
import { createAvpDoorApp } from './doors/avp/door.js';
import { createHttpApp } from './doors/http/app.js';
import { StartupError } from './errors.js';
import { ensureDevKeys } from './identity/dev-issuer.js';
import { createIdentifier, type CallerCache } from './identity/identifier.js';
import type { Logger } from './observability/logger.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.js';
import { createStoreRegistry, type StoreRegistry, type StoreRegistryOptions } from './policy/registry.js';
import { createRouter } from './routing/index.js';

export interface Sidecar {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8181`. */
  url: string;
  port: number;
  /** Base URL of the AVP door when it is enabled, e.g. `http://127.0.0.1:8182`. */
  avpUrl?: string;
  pipeline: Pipeline;
  stores: StoreRegistry;
  /** The HTTP routes as served (tests check every mounted route against openapi.yaml). */
  app: Hono;
  close(): Promise<void>;
}

export interface SidecarOptions {
  /** Verified-token cache; none means every request verifies its token. */
  callerCache?: CallerCache;
  /** AVP engine hooks and test-only SDK settings (see StoreRegistryOptions). */
  avp?: Pick<StoreRegistryOptions, 'avpObserver' | 'avpSyncObserver' | 'avpSdk'>;
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
    ...options.avp,
    avpSyncObserver: {
      sync: (event) => {
        options.avp?.avpSyncObserver?.sync?.(event);
        const { result } = event;
        if (!result.ok)
          logger.error(
            { store: event.store, error: result.error },
            'AVP sync failed; the last good policies keep serving until maxStalenessSeconds',
          );
        else if (result.changed)
          logger.info(
            { store: event.store, version: result.version, fetched: result.fetched },
            'policies synced from AVP',
          );
      },
    },
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
  await stores.start();
  for (const s of stores.statuses())
    logger.info(
      { store: s.name, engine: s.engine, version: s.version, policies: s.policies, ready: s.ready },
      'policy store loaded',
    );
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

  const server = await listen(app.fetch, config.server.host, config.server.port);
  const port = (server.address() as AddressInfo).port;
  const url = urlOf(config.server.host, port);
  logger.info({ url }, 'authz-sidecar listening');

  // The AVP door has a listener of its own, on loopback only (the schema refuses other hosts):
  // it trusts stated principals and SigV4 proves nothing to it.
  let avpServer: ReturnType<typeof serve> | undefined;
  let avpUrl: string | undefined;
  if (config.avpDoor.enabled) {
    const door = createAvpDoorApp({
      pipeline,
      stores,
      policyStores: config.avpDoor.policyStores,
      bodyLimitBytes: config.server.bodyLimitBytes,
      logger,
    });
    try {
      avpServer = await listen(door.fetch, config.avpDoor.host, config.avpDoor.port);
    } catch (err) {
      await closeServer(server, 0);
      throw new StartupError(
        `the AVP door cannot listen on ${config.avpDoor.host}:${config.avpDoor.port} (config key avpDoor.port): ${(err as Error).message}`,
      );
    }
    avpUrl = urlOf(config.avpDoor.host, (avpServer.address() as AddressInfo).port);
    logger.info({ url: avpUrl }, 'AVP door listening (local host only; SigV4 signatures are not verified)');
  }

  return {
    url,
    port,
    ...(avpUrl ? { avpUrl } : {}),
    pipeline,
    stores,
    app,
    async close() {
      identifier.stop();
      await Promise.all([
        closeServer(server, config.server.shutdownGraceMs),
        ...(avpServer ? [closeServer(avpServer, config.server.shutdownGraceMs)] : []),
      ]);
      await stores.close();
    },
  };
}

type Server = ReturnType<typeof serve>;

function listen(
  fetch: Parameters<typeof serve>[0]['fetch'],
  hostname: string,
  port: number,
): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch, port, hostname }, () => resolve(s));
    s.once('error', reject);
  });
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops the rest. */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      resolve();
    }, graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
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
