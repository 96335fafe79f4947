import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import type { LoadedConfig } from './config/index.js';
import { mountAuthzen } from './doors/authzen/authzen.js';
import { mountExtAuthzHttp } from './doors/ext-authz/http.js';
import { startGrpcServer, type RunningGrpcServer } from './doors/grpc/server.js';
import { createHttpApp } from './doors/http/app.js';
import { StartupError } from './errors.js';
import { ensureDevKeys } from './identity/dev-issuer.js';
import { createIdentifier, type CallerCache } from './identity/identifier.js';
import type { Logger } from './observability/logger.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.js';
import { createStoreRegistry, type StoreRegistry } from './policy/registry.js';
import { createHttpRouteTable, createRouter, type HttpRouteTable } from './routing/index.js';

export interface Sidecar {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8181`. */
  url: string;
  port: number;
  pipeline: Pipeline;
  stores: StoreRegistry;
  /** The gRPC server (Envoy ext_authz gRPC, health), when `grpc.enabled`. */
  grpc?: { port: number; target: string; socketPath?: string };
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
  const routes = buildRouteTable(loaded);

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
  const readiness = config.issuers.length ? [identifier.readiness] : [];
  const app = createHttpApp({
    pipeline,
    stores,
    bodyLimitBytes: config.server.bodyLimitBytes,
    batchLimit: config.server.batchLimit,
    logger,
    readiness,
    mounts: [
      (a) => mountExtAuthzHttp(a, { pipeline, routes, config: config.extAuthz }),
      ...(config.authzen.enabled
        ? [
            (a: Parameters<typeof mountAuthzen>[0]) =>
              mountAuthzen(a, { pipeline, config: config.authzen, batchLimit: config.server.batchLimit }),
          ]
        : []),
    ],
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

  let grpcServer: RunningGrpcServer | undefined;
  if (config.grpc.enabled) {
    try {
      grpcServer = await startGrpcServer({
        pipeline,
        routes,
        extAuthz: config.extAuthz,
        grpc: config.grpc,
        ready: () => stores.ready() && readiness.every((r) => r.check().ready),
        onError: (err) => logger.error({ err: { message: (err as Error).message } }, 'gRPC check failed'),
        onLog: (line) => logger.warn({ grpc: line }, 'grpc-js'),
      });
    } catch (err) {
      server.close();
      identifier.stop();
      await stores.close();
      throw new StartupError(
        `gRPC server: cannot listen on ${config.grpc.host}:${config.grpc.port}${config.grpc.socketPath ? ` or ${config.grpc.socketPath}` : ''} (${(err as Error).message}) (config keys grpc.host, grpc.port, grpc.socketPath)`,
      );
    }
    logger.info(
      { target: grpcServer.target, socketPath: grpcServer.socketPath },
      'gRPC ext_authz and health listening',
    );
  }

  return {
    url,
    port,
    pipeline,
    stores,
    ...(grpcServer
      ? {
          grpc: {
            port: grpcServer.port,
            target: grpcServer.target,
            ...(grpcServer.socketPath ? { socketPath: grpcServer.socketPath } : {}),
          },
        }
      : {}),
    async close() {
      identifier.stop();
      const grpcClosed = grpcServer?.close(config.server.shutdownGraceMs);
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
      await grpcClosed;
      await stores.close();
    },
  };
}

/** The proxy doors' route table; a bad template stops startup naming its key. */
function buildRouteTable(loaded: LoadedConfig): HttpRouteTable | undefined {
  if (!loaded.config.httpRoutes) return undefined;
  try {
    return createHttpRouteTable(loaded.config.httpRoutes);
  } catch (err) {
    if (err instanceof StartupError)
      throw new StartupError(
        err.message.replace(
          'invalid configuration:',
          `invalid configuration in ${loaded.file ?? 'the given config'}:`,
        ),
      );
    throw err;
  }
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
  const { httpRoutes, authzen } = loaded.config;
  if (httpRoutes?.store && !stores.get(httpRoutes.store))
    problems.push(`- key "httpRoutes.store": no policy store named "${httpRoutes.store}"`);
  if (authzen.store && !stores.get(authzen.store))
    problems.push(`- key "authzen.store": no policy store named "${authzen.store}"`);
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
