import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Hono } from 'hono';
import { createDecisionCache, createTokenCache, type DecisionCache, type TokenCache } from './cache/index.js';
import { resolveFromConfig, type LoadedConfig } from './config/index.js';
import { authzenErrors, mountAuthzen } from './doors/authzen/authzen.js';
import { createAvpDoorApp } from './doors/avp/door.js';
import { mountExtAuthzHttp } from './doors/ext-authz/http.js';
import { startGrpcServer, type RunningGrpcServer } from './doors/grpc/server.js';
import { createHttpApp } from './doors/http/app.js';
import { createFront, type RequestListener } from './doors/http/front.js';
import { createLoadGate } from './doors/http/load.js';
import { apiRepeats } from './doors/http/repeats.js';
import { proxyRepeats } from './doors/ext-authz/repeats.js';
import { mountMetrics } from './doors/http/metrics.js';
import { StartupError } from './core/errors.js';
import { ensureDevKeys } from './identity/dev-issuer.js';
import { createIdentifier } from './identity/identifier.js';
import type { Caller } from './identity/types.js';
import type { DecisionLog } from './observability/decision-log.js';
import { openDecisionLog } from './observability/decision-log-setup.js';
import { startShadowing } from './observability/shadow-report.js';
import type { OwnedSink } from './observability/log-sink.js';
import type { EngineAnswer } from './core/engine.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createPipeline, type DecisionObserver, type Pipeline } from './pipeline/pipeline.js';
import { createStoreRegistry, type StoreRegistry } from './engines/registry.js';
import { createHttpRouteTable, createRouter, type HttpRouteTable } from './routing/index.js';
import { checkRoutes, knownCallerTypes } from './config/cross-checks.js';
import { closeServer, listen, urlOf, withTimeout, type Server } from './doors/http/listen.js';

export interface Sidecar {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8181`. */
  url: string;
  port: number;
  /** Base URL of the AVP door when it is enabled, e.g. `http://127.0.0.1:8182`. */
  avpUrl?: string;
  pipeline: Pipeline;
  stores: StoreRegistry;
  /** The sidecar's own metrics registry and counters (the identifier reports token verifications here). */
  metrics: Metrics;
  /** The HTTP routes as served (tests check every mounted route against openapi.yaml). */
  app: Hono;
  /** The gRPC server (Envoy ext_authz gRPC, health), when `grpc.enabled`. */
  grpc?: { port: number; target: string; socketPath?: string };
  close(): Promise<void>;
}

/** An engine answer without request data, for a log line. */
function summary(a: EngineAnswer) {
  return a.kind === 'evaluated'
    ? {
        decision: a.allow ? 'ALLOW' : 'DENY',
        determiningPolicies: a.determiningPolicies,
        errors: a.errors.map((e) => e.policyId),
      }
    : { kind: a.kind };
}

/**
 * Wires config → stores → identity and routing → pipeline → doors, and starts listening. Throws
 * StartupError when the config or a store is bad, before anything listens.
 */
export async function startSidecar(loaded: LoadedConfig, logger: Logger): Promise<Sidecar> {
  // Everything opened is closed again, newest first, if the start fails later on.
  const opened: Closer[] = [];
  try {
    return await wire(loaded, logger, opened);
  } catch (err) {
    await closeAll(opened);
    throw err;
  }
}

type Closer = () => Promise<void> | void;

/** Closes what a failed start had opened, newest first; a failure here does not hide the start's. */
async function closeAll(opened: Closer[]): Promise<void> {
  for (const closeIt of opened.reverse()) {
    try {
      await closeIt();
    } catch {
      /* the start-up error is the one to report */
    }
  }
}

/** startSidecar's wiring; each thing it opens is pushed on `opened`. */
async function wire(loaded: LoadedConfig, logger: Logger, opened: Closer[]): Promise<Sidecar> {
  const { config } = loaded;
  const metrics = createMetrics({
    callerTypes: knownCallerTypes(config),
    defaultMetrics: config.metrics.defaultMetrics,
    stores: { statuses: () => stores.statuses() },
  });
  const stores = createStoreRegistry(loaded, {
    sliceStats: metrics.slices,
    evaluatorObserver: {
      serving(store, evaluator, reason) {
        metrics.evaluator.serving?.(store, evaluator, reason);
        if (reason !== undefined)
          logger.warn({ store, evaluator, reason }, `policy store "${store}" runs on cedar-wasm: ${reason}`);
      },
      mismatch(store, detail) {
        metrics.evaluator.mismatch?.(store, detail);
        logger.error(
          {
            store,
            decisionId: detail.decisionId,
            native: summary(detail.native),
            wasm: summary(detail.wasm),
          },
          'native evaluator disagreed with cedar-wasm on a sampled decision',
        );
      },
    },
    avpObserver: {
      call: (event) => metrics.avp.call?.(event),
    },
    avpSyncObserver: {
      sync: (event) => {
        const { result } = event;
        metrics.policyReload(event.store, !result.ok ? 'failure' : result.changed ? 'success' : 'unchanged');
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
  opened.push(() => stores.close());
  await stores.start();
  for (const s of stores.statuses())
    logger.info(
      { store: s.name, engine: s.engine, version: s.version, policies: s.policies, ready: s.ready },
      'policy store loaded',
    );
  checkRoutes(loaded, stores);
  const routes = buildRouteTable(loaded);

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
  const callerCache = tokenCache;
  const identifier = createIdentifier({
    issuers: config.issuers,
    baseDir: loaded.baseDir,
    maxTokenBytes: config.maxTokenBytes,
    ...(callerCache ? { cache: callerCache } : {}),
    onVerification: metrics.tokenVerification,
    onLookup: metrics.identityLookup,
  });
  opened.push(() => identifier.stop());
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
  if (config.decisionLog.enabled) {
    const dl = openDecisionLog(config.decisionLog, (p) => resolveFromConfig(loaded, p), logger, metrics);
    ({ sink: logSink, log: decisionLog } = dl);
    opened.push(dl.closeOnFailure);
    observers.push(decisionLog);
  }

  const shadowing = startShadowing(stores.shadows(), metrics, logger);
  if (shadowing) observers.push(shadowing);

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
    // Fail closed and say so: the DENY went out with this id, the log line lets on-call find it.
    onInternalError: (err, decisionId) =>
      logger.error(
        {
          err: { message: (err as Error)?.message ?? String(err), name: (err as Error)?.name },
          decisionId,
        },
        'decision failed inside the pipeline; answered DENY internal_error',
      ),
  });
  const mounts: ((app: Hono) => void)[] = config.metrics.enabled ? [mountMetrics(metrics.registry)] : [];
  const readiness = [
    ...(config.issuers.length ? [identifier.readiness] : []),
    ...(shadowing ? [shadowing.readiness] : []),
  ];
  let draining = false;
  const isDraining = () => draining;
  const gate = createLoadGate(config.server.maxInFlight ?? Infinity);
  const app = createHttpApp({
    pipeline,
    stores,
    bodyLimitBytes: config.server.bodyLimitBytes,
    bodyTimeoutMs: config.server.requestTimeoutMs,
    gate,
    draining: isDraining,
    ...(config.authzen.enabled ? { errorRenderers: [authzenErrors] } : {}),
    batchLimit: config.server.batchLimit,
    explainTokenApi: config.server.explainTokenApi,
    logger,
    readiness,
    mounts: [
      ...mounts,
      (a) => mountExtAuthzHttp(a, { pipeline, routes, config: config.extAuthz }),
      ...(config.authzen.enabled
        ? [
            (a: Parameters<typeof mountAuthzen>[0]) =>
              mountAuthzen(a, { pipeline, config: config.authzen, batchLimit: config.server.batchLimit }),
          ]
        : []),
    ],
    ...(config.metrics.enabled ? { recordRequest: metrics.httpRequest } : {}),
  });

  // Repeats of answered questions are answered before hono routes them (front.ts).
  const front = (hono: RequestListener) =>
    createFront(
      {
        pipeline,
        gate,
        matchers: [apiRepeats(), proxyRepeats(config.extAuthz)],
        bodyLimitBytes: config.server.bodyLimitBytes,
        bodyTimeoutMs: config.server.requestTimeoutMs,
        draining: isDraining,
        ...(config.metrics.enabled ? { recordRequest: metrics.httpRequest } : {}),
        onError: (err) =>
          logger.error({ err: { message: (err as Error)?.message } }, 'writing a cached answer failed'),
      },
      hono,
    );
  const server = await listen(app.fetch, config.server.host, config.server.port, config.server, front);
  opened.push(() => closeServer(server, 0));
  const port = (server.address() as AddressInfo).port;
  const url = urlOf(config.server.host, port);
  logger.info({ url }, 'authz-sidecar listening');

  // The AVP door has a listener of its own, on loopback only (the schema refuses other hosts):
  // it trusts stated principals and SigV4 proves nothing to it.
  let avpServer: Server | undefined;
  let avpUrl: string | undefined;
  if (config.avpDoor.enabled) {
    const door = createAvpDoorApp({
      pipeline,
      policyStores: config.avpDoor.policyStores,
      bodyLimitBytes: config.server.bodyLimitBytes,
      bodyTimeoutMs: config.server.requestTimeoutMs,
      logger,
    });
    try {
      const avp = await listen(door.fetch, config.avpDoor.host, config.avpDoor.port, config.server);
      avpServer = avp;
      opened.push(() => closeServer(avp, 0));
    } catch (err) {
      throw new StartupError(
        `the AVP door cannot listen on ${config.avpDoor.host}:${config.avpDoor.port} (config key avpDoor.port): ${(err as Error).message}`,
      );
    }
    avpUrl = urlOf(config.avpDoor.host, (avpServer.address() as AddressInfo).port);
    logger.info({ url: avpUrl }, 'AVP door listening (local host only; SigV4 signatures are not verified)');
  }

  let grpcServer: RunningGrpcServer | undefined;
  if (config.grpc.enabled) {
    try {
      grpcServer = await startGrpcServer({
        pipeline,
        routes,
        extAuthz: config.extAuthz,
        grpc: config.grpc,
        ready: () => !draining && stores.ready() && readiness.every((r) => r.check().ready),
        onError: (err) => logger.error({ err: { message: (err as Error).message } }, 'gRPC check failed'),
        onLog: (line) => logger.warn({ grpc: line }, 'grpc-js'),
      });
    } catch (err) {
      throw new StartupError(
        `gRPC server: cannot listen on ${config.grpc.host}:${config.grpc.port}${config.grpc.socketPath ? ` or ${config.grpc.socketPath}` : ''} (${(err as Error).message}) (config keys grpc.host, grpc.port, grpc.socketPath)`,
      );
    }
    logger.info(
      { target: grpcServer.target, socketPath: grpcServer.socketPath },
      'gRPC ext_authz and health listening',
    );
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    ...(avpUrl ? { avpUrl } : {}),
    pipeline,
    stores,
    metrics,
    app,
    ...(grpcServer
      ? {
          grpc: {
            port: grpcServer.port,
            target: grpcServer.target,
            ...(grpcServer.socketPath ? { socketPath: grpcServer.socketPath } : {}),
          },
        }
      : {}),
    close: () => (closing ??= shutdown()),
  };

  /**
   * The drain: `/readyz` 503 (`draining`) and gRPC health NOT_SERVING first, while everything
   * still serves for `drainDelayMs`; then no new connections or calls, idle keep-alive
   * connections closed, running requests finish for up to `shutdownGraceMs` (answers carry
   * `Connection: close`), the rest are cut; then the stores and the decision log.
   */
  async function shutdown(): Promise<void> {
    draining = true;
    grpcServer?.refreshHealth();
    if (config.server.drainDelayMs > 0)
      await new Promise((resolve) => setTimeout(resolve, config.server.drainDelayMs));
    identifier.stop();
    const grpcClosed = grpcServer?.close(config.server.shutdownGraceMs);
    await Promise.all([
      closeServer(server, config.server.shutdownGraceMs),
      ...(avpServer ? [closeServer(avpServer, config.server.shutdownGraceMs)] : []),
    ]);
    await grpcClosed;
    await stores.close();
    // Whatever the log still buffers goes out, unless its destination is stuck.
    if (decisionLog) await withTimeout(decisionLog.flush(), config.server.shutdownGraceMs);
    if (config.decisionLog.onFull === 'spool') {
      // What the destination has not taken goes to the spool for the next start; waiting longer
      // for the destination would only write twice what is now spooled.
      decisionLog?.close();
      await logSink?.close(0);
    } else await logSink?.close(config.server.shutdownGraceMs);
  }
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
