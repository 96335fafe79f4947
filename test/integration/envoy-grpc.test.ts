/* eslint-disable @typescript-eslint/no-explicit-any -- messages of protos loaded at run time are untyped */
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExtAuthzSchema, GrpcSchema } from '../../src/config/doors.js';
import { envoyProtoDirs, healthProtoDir, PROTO_OPTIONS } from '../../src/doors/grpc/protos.js';
import { startGrpcServer } from '../../src/doors/grpc/server.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { startDevSidecar, type DevSidecar } from '../support/dev-config.js';
import { startTestSidecar } from '../support/sidecar.js';

/**
 * The Envoy gRPC ext_authz door with a real gRPC client built from Envoy's own protos (loaded the
 * same way as the server does), sending CheckRequests shaped as Envoy sends them.
 */
type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: any) => void) => void;
interface AuthorizationClient extends grpc.Client {
  Check: Unary;
}
interface HealthClient extends grpc.Client {
  Check: Unary;
  Watch(req: unknown): grpc.ClientReadableStream<{ status: string }>;
}

function clients(target: string) {
  const envoy = grpc.loadPackageDefinition(
    protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
      ...PROTO_OPTIONS,
      includeDirs: envoyProtoDirs(),
    }),
  ) as any;
  const health = grpc.loadPackageDefinition(
    protoLoader.loadSync('health/v1/health.proto', { ...PROTO_OPTIONS, includeDirs: [healthProtoDir()] }),
  ) as any;
  const credentials = grpc.credentials.createInsecure();
  return {
    authz: new envoy.envoy.service.auth.v3.Authorization(target, credentials) as AuthorizationClient,
    health: new health.grpc.health.v1.Health(target, credentials) as HealthClient,
  };
}

const call = (fn: Unary, client: grpc.Client, req: unknown) =>
  new Promise<any>((resolve, reject) =>
    fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res))),
  );

/** A CheckRequest as Envoy's ext_authz filter builds it (HTTP/1.1 request through a listener). */
function envoyCheck(method: string, pathAndQuery: string, authorization?: string, raw = false) {
  const headers: Record<string, string> = {
    ':authority': 'payments.example.com',
    ':method': method,
    ':path': pathAndQuery,
    ':scheme': 'https',
    'user-agent': 'curl/8.5.0',
    accept: '*/*',
    'x-forwarded-proto': 'https',
    'x-request-id': 'a3f1c6f0-0b7d-4a57-9a2e-5d1f3f7f8f01',
    ...(authorization ? { authorization } : {}),
  };
  return {
    attributes: {
      source: { address: { socket_address: { address: '10.1.2.3', port_value: 53122 } } },
      destination: { address: { socket_address: { address: '10.1.2.4', port_value: 8080 } } },
      request: {
        time: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 },
        http: {
          id: '10482717374372934081',
          method,
          path: pathAndQuery,
          host: 'payments.example.com',
          scheme: 'https',
          protocol: 'HTTP/1.1',
          // encode_raw_headers: true sends header_map with raw bytes instead of the headers map.
          ...(raw
            ? {
                header_map: {
                  headers: Object.entries(headers).map(([key, value]) => ({
                    key,
                    raw_value: Buffer.from(value),
                  })),
                },
              }
            : { headers }),
        },
      },
      context_extensions: {},
      metadata_context: {},
    },
  };
}

const headerOf = (options: { header: { key: string; value: string } }[], key: string) =>
  options.find((o) => o.header.key === key)?.header.value;

let dev: DevSidecar;
let alice: string;
let authz: AuthorizationClient;
let health: HealthClient;
beforeAll(async () => {
  dev = await startDevSidecar();
  alice = await dev.token({
    kind: 'user',
    sub: 'alice',
    groups: ['PAYMENT_INITIATOR'],
    claims: { 'custom:tenantId': 'acme' },
  });
  ({ authz, health } = clients(dev.sidecar.grpc!.target));
});
afterAll(async () => {
  authz?.close();
  health?.close();
  await dev?.sidecar.close();
});

describe('Envoy gRPC ext_authz door', () => {
  it('ALLOW: status OK with the upstream headers, set so that a client copy is overwritten', async () => {
    const res = await call(
      authz.Check,
      authz,
      envoyCheck('GET', '/accounts/acme-ops?view=full', `Bearer ${alice}`),
    );
    expect(res.status.code).toBe(0);
    expect(res.http_response).toBe('ok_response');
    const headers = res.ok_response.headers;
    expect(headerOf(headers, 'x-authz-principal')).toBe('Payments::User::"dev|alice"');
    expect(headerOf(headers, 'x-authz-decision-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(headerOf(headers, 'x-authz-caller-type')).toBe('user');
    for (const h of headers) expect(h.append).toEqual({ value: false });
  });

  it('reads headers from header_map too (encode_raw_headers)', async () => {
    const res = await call(authz.Check, authz, envoyCheck('POST', '/payments', `Bearer ${alice}`, true));
    expect(res.status.code).toBe(0);
  });

  it('DENY: PERMISSION_DENIED with a 403 denied_response and a small JSON body', async () => {
    const res = await call(authz.Check, authz, envoyCheck('DELETE', '/payments/pay-1', `Bearer ${alice}`));
    expect(res.status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(res.http_response).toBe('denied_response');
    expect(res.denied_response.status.code).toBe('Forbidden');
    expect(headerOf(res.denied_response.headers, 'content-type')).toBe('application/json');
    expect(JSON.parse(res.denied_response.body)).toEqual({
      decision: 'DENY',
      decisionId: expect.any(String),
    });
    expect(res.ok_response).toBeUndefined();
  });

  it('a bad token is PERMISSION_DENIED with 401 and a Bearer invalid_token challenge', async () => {
    const res = await call(
      authz.Check,
      authz,
      envoyCheck('GET', '/accounts/acme-ops', 'Bearer eyJhbGciOiJub25lIn0.e30.'),
    );
    expect(res.status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(res.denied_response.status.code).toBe('Unauthorized');
    expect(headerOf(res.denied_response.headers, 'www-authenticate')).toBe(
      'Bearer realm="authz-sidecar", error="invalid_token"',
    );
    expect(JSON.parse(res.denied_response.body)).toMatchObject({
      decision: 'DENY',
      reason: expect.any(String),
    });
  });

  it('a missing token is 401, an unknown route 403 no_route, a dot-segment path never a bypass', async () => {
    const missing = await call(authz.Check, authz, envoyCheck('GET', '/accounts/acme-ops'));
    expect(missing.denied_response.status.code).toBe('Unauthorized');
    const unknown = await call(authz.Check, authz, envoyCheck('GET', '/nowhere', `Bearer ${alice}`));
    expect(JSON.parse(unknown.denied_response.body)).toMatchObject({ reason: 'no_route' });
    const dots = await call(
      authz.Check,
      authz,
      envoyCheck('GET', '/accounts/x/../../admin/settings', `Bearer ${alice}`),
    );
    expect(dots.denied_response.status.code).toBe('Forbidden');
  });

  it('an empty CheckRequest is a DENY, not an error', async () => {
    const res = await call(authz.Check, authz, {});
    expect(res.status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(res.denied_response.status.code).toBe('Unauthorized');
  });

  it('grpc.health.v1: SERVING for the server and for the Authorization service, NOT_FOUND otherwise', async () => {
    expect(await call(health.Check, health, { service: '' })).toEqual({ status: 'SERVING' });
    expect(await call(health.Check, health, { service: 'envoy.service.auth.v3.Authorization' })).toEqual({
      status: 'SERVING',
    });
    await expect(call(health.Check, health, { service: 'nope' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });
});

describe('gRPC health while no store is ready', () => {
  it('answers NOT_SERVING, and Watch reports SERVING once a store is ready; a Unix socket works too', async () => {
    let ready = false;
    const socketPath = path.join(mkdtempSync(path.join(tmpdir(), 'authz-grpc-')), 'authz.sock');
    const pipeline: Pipeline = {
      decide: () => Promise.reject(new Error('no store')),
      decideBatch: () => Promise.reject(new Error('no store')),
      decideRaw: () => Promise.reject(new Error('no store')),
      repeat: () => Promise.reject(new Error('no store')),
    };
    const server = await startGrpcServer({
      pipeline,
      routes: undefined,
      extAuthz: ExtAuthzSchema.parse({}),
      grpc: GrpcSchema.parse({ enabled: true, port: 0, socketPath, healthPollMs: 20 }),
      ready: () => ready,
    });
    const tcp = clients(server.target);
    const unix = clients(`unix:${socketPath}`);
    try {
      expect(await call(tcp.health.Check, tcp.health, { service: '' })).toEqual({ status: 'NOT_SERVING' });
      expect(await call(unix.health.Check, unix.health, { service: '' })).toEqual({ status: 'NOT_SERVING' });

      const seen: string[] = [];
      const stream = unix.health.Watch({ service: 'envoy.service.auth.v3.Authorization' });
      const serving = new Promise<void>((resolve, reject) => {
        stream.on('data', (m: { status: string }) => {
          seen.push(m.status);
          if (m.status === 'NOT_SERVING') ready = true;
          if (m.status === 'SERVING') resolve();
        });
        stream.on('error', (err: grpc.ServiceError) =>
          err.code === grpc.status.CANCELLED ? undefined : reject(err),
        );
      });
      await serving;
      stream.cancel();
      expect(seen).toEqual(['NOT_SERVING', 'SERVING']);

      // A check whose pipeline fails is still a well-formed DENY (fail closed).
      const res = await call(unix.authz.Check, unix.authz, envoyCheck('GET', '/x', 'Bearer t'));
      expect(res.status.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(JSON.parse(res.denied_response.body)).toMatchObject({ reason: 'internal_error' });
    } finally {
      for (const c of [tcp, unix]) {
        c.authz.close();
        c.health.close();
      }
      await server.close(1000);
    }
  });
});

describe('gRPC server startup', () => {
  it('a taken gRPC port stops startup with a StartupError naming the keys', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      await expect(
        startTestSidecar({ policies: { watch: false }, grpc: { enabled: true, port } }),
      ).rejects.toThrow(/gRPC server: cannot listen on 127\.0\.0\.1:\d+.*grpc\.port/);
    } finally {
      taken.close();
    }
  });
});
