import { lstatSync, unlinkSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ExtAuthzConfig, GrpcConfig } from '../../config/index.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { HttpRouteTable } from '../../routing/http-routes.js';
import { checkHandler } from './check.js';
import { createHealthService } from './health.js';
import { loadServiceDefinitions } from './protos.js';

export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

export interface GrpcServerDeps {
  pipeline: Pipeline;
  routes: HttpRouteTable | undefined;
  extAuthz: ExtAuthzConfig;
  grpc: GrpcConfig;
  ready: () => boolean;
  onError?: (err: unknown) => void;
  /** Where grpc-js's own log lines go (it writes to stderr otherwise). */
  onLog?: (line: string) => void;
}

export interface RunningGrpcServer {
  /** The TCP port bound (useful with port 0). */
  port: number;
  /** `host:port` as a gRPC target. */
  target: string;
  socketPath?: string;
  /**
   * Tells health watchers at once that readiness changed (a drain starts: `ready` now answers
   * false, so Check and Watch say NOT_SERVING while calls are still served).
   */
  refreshHealth(): void;
  /**
   * Drains: no new calls (tryShutdown), running calls finish for up to `graceMs`, then the rest
   * are cancelled (forceShutdown).
   */
  close(graceMs: number): Promise<void>;
}

/**
 * The gRPC server: Envoy's ext_authz `Authorization/Check` and `grpc.health.v1.Health` side by
 * side, on their own TCP port and optionally a Unix socket. Plaintext: it listens on loopback or
 * a socket next to Envoy, as OPA's Envoy plugin does.
 */
export async function startGrpcServer(deps: GrpcServerDeps): Promise<RunningGrpcServer> {
  if (deps.onLog) {
    const log = deps.onLog;
    grpc.setLogger({ error: (...args: unknown[]) => log(args.map(String).join(' ')) });
  }
  const definitions = loadServiceDefinitions();
  const server = new grpc.Server();
  server.addService(definitions.authorization, {
    Check: checkHandler({
      pipeline: deps.pipeline,
      routes: deps.routes,
      config: deps.extAuthz,
      ...(deps.onError ? { onError: deps.onError } : {}),
    }),
  });
  const health = createHealthService({
    ready: deps.ready,
    services: [AUTHORIZATION_SERVICE],
    pollMs: deps.grpc.healthPollMs,
  });
  server.addService(definitions.health, health.handlers);

  const bind = (address: string) =>
    new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
  const host = deps.grpc.host.includes(':') ? `[${deps.grpc.host}]` : deps.grpc.host;
  let port: number;
  try {
    port = await bind(`${host}:${deps.grpc.port}`);
    if (deps.grpc.socketPath) {
      removeStaleSocket(deps.grpc.socketPath);
      await bind(`unix:${deps.grpc.socketPath}`);
    }
  } catch (err) {
    // Whatever did bind (the TCP port when the socket fails) is let go.
    health.close();
    server.forceShutdown();
    throw err;
  }

  return {
    port,
    target: `${host}:${port}`,
    ...(deps.grpc.socketPath ? { socketPath: deps.grpc.socketPath } : {}),
    refreshHealth: () => health.refresh(),
    async close(graceMs) {
      health.refresh();
      health.close();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** A socket file left by a process that died would make the bind fail; anything else is left alone. */
function removeStaleSocket(socketPath: string): void {
  try {
    if (lstatSync(socketPath).isSocket()) unlinkSync(socketPath);
  } catch {
    /* absent: nothing to remove */
  }
}
