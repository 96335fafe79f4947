import * as grpc from '@grpc/grpc-js';

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthDeps {
  /** True when every store (and every other readiness check) is ready: the same as `/readyz`. */
  ready: () => boolean;
  /** Service names that answer; `''` (the whole server) is always one. */
  services: string[];
  /** How often a Watch stream re-checks readiness, in milliseconds. */
  pollMs: number;
}

export interface HealthService {
  handlers: grpc.UntypedServiceImplementation;
  /** Re-checks readiness for every open Watch stream now, without waiting for the next poll. */
  refresh(): void;
  /** Ends every open Watch stream (on shutdown, so the server can close). */
  close(): void;
}

/**
 * `grpc.health.v1.Health`: Check, Watch and List. Every known service is SERVING while the
 * sidecar is ready and NOT_SERVING while it is not; an unknown service is NOT_FOUND on Check and
 * SERVICE_UNKNOWN on Watch, as the health protocol says. Watch sends the status at once and then
 * each change, polling readiness (stores have no change events).
 */
export function createHealthService(deps: HealthDeps): HealthService {
  const known = new Set(['', ...deps.services]);
  const watches = new Map<grpc.ServerWritableStream<{ service?: string }, unknown>, () => void>();
  const status = (): ServingStatus => (deps.ready() ? 'SERVING' : 'NOT_SERVING');

  const handlers: grpc.UntypedServiceImplementation = {
    Check(call: grpc.ServerUnaryCall<{ service?: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const service = call.request.service ?? '';
      if (!known.has(service)) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${service}` });
        return;
      }
      callback(null, { status: status() });
    },
    Watch(call: grpc.ServerWritableStream<{ service?: string }, unknown>) {
      const service = call.request.service ?? '';
      if (!known.has(service)) {
        call.write({ status: 'SERVICE_UNKNOWN' });
        return;
      }
      let last = status();
      call.write({ status: last });
      const poll = () => {
        const now = status();
        if (now !== last) call.write({ status: (last = now) });
      };
      const timer = setInterval(poll, deps.pollMs);
      timer.unref();
      watches.set(call, poll);
      const stop = () => {
        clearInterval(timer);
        watches.delete(call);
      };
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
    },
    List(_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const now = status();
      callback(null, { statuses: Object.fromEntries([...known].map((s) => [s, { status: now }])) });
    },
  };

  return {
    handlers,
    refresh() {
      for (const poll of watches.values()) poll();
    },
    close() {
      for (const call of watches.keys()) call.end();
      watches.clear();
    },
  };
}
