/* eslint-disable @typescript-eslint/no-explicit-any -- messages of protos loaded at run time are untyped */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { ExtAuthzSchema, GrpcSchema } from '../../src/config/doors.js';
import type { Decision } from '../../src/core/decision.js';
import { StartupError } from '../../src/core/errors.js';
import { envoyProtoDirs, healthProtoDir, PROTO_OPTIONS } from '../../src/doors/grpc/protos.js';
import { startGrpcServer } from '../../src/doors/grpc/server.js';
import type { Pipeline } from '../../src/pipeline/pipeline.js';
import type { Sidecar } from '../../src/server.js';
import { freePort } from '../support/peers.js';
import { getJson, postJson, REPO_ROOT, startTestSidecar } from '../support/sidecar.js';
import { tempDir, waitFor } from '../support/temp.js';

/**
 * Slow and partial requests, floods and shutdown, against the real server on ephemeral ports.
 * Timeouts are configured small so that every case takes well under a second of waiting; the
 * "slow request" of the flood and drain cases is a request whose body the test holds back, so
 * it is in flight exactly as long as the test wants, with no sleeps.
 */

const IS_AUTHORIZED = JSON.stringify({
  store: 'services',
  principal: { type: 'Payments::Service', id: 'fraud-svc' },
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: { type: 'Payments::Payment', id: 'p-1' },
  entities: [
    {
      uid: { type: 'Payments::Service', id: 'fraud-svc' },
      attrs: { scopes: ['payments/screen'] },
      parents: [],
    },
  ],
});

const running: Sidecar[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function sidecar(server: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const s = await startTestSidecar({
    server,
    policies: { dir: 'policies', watch: false },
    cache: { decisions: { enabled: false } },
    ...extra,
  });
  running.push(s);
  return s;
}

/** A raw HTTP/1.1 connection: write what you like, read everything until the server closes. */
function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
  socket.on('error', () => undefined);
  return {
    socket,
    write: (s: string) => socket.write(s),
    received: () => text,
    /** Everything the server sent, once it closed the connection. */
    closed,
  };
}

/** A POST whose headers and first part of the body are sent; `finish()` sends the rest. */
function heldPost(url: string, target = '/v1/is-authorized', body = IS_AUTHORIZED) {
  const conn = rawConnection(url);
  conn.write(
    `POST ${target} HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
  );
  return { ...conn, finish: () => conn.write(body.slice(10)) };
}

/** Splits a raw HTTP/1.1 response into status, lower-cased headers and body. */
function parseResponse(text: string) {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

const refused = (url: string) =>
  fetch(`${url}/healthz`).then(
    () => undefined,
    (err: Error & { cause?: { code?: string } }) => (err.cause?.code === 'ECONNREFUSED' ? true : undefined),
  );

describe('slow and partial requests', () => {
  it('headers that never complete get a 408 and the connection closed (Node answers it)', async () => {
    const s = await sidecar({ headersTimeoutMs: 150, requestTimeoutMs: 300 });
    const conn = rawConnection(s.url);
    conn.write('POST /v1/is-authorized HTTP/1.1\r\nHost: sidecar\r\nContent-Type: applic');
    const started = Date.now();
    const res = parseResponse(await conn.closed);
    expect(res.status).toBe(408);
    expect(Date.now() - started).toBeLessThan(2_000);
    // The sidecar itself still serves.
    expect((await getJson(`${s.url}/healthz`)).status).toBe(200);
  });

  it('headers trickled byte by byte are cut off at the header timeout too', async () => {
    const s = await sidecar({ headersTimeoutMs: 150, requestTimeoutMs: 300 });
    const conn = rawConnection(s.url);
    const head = 'GET /healthz HTTP/1.1\r\nHost: sidecar\r\nX-Slow: ' + 'a'.repeat(200);
    let i = 0;
    const timer = setInterval(() => (i < head.length ? conn.write(head[i++]!) : undefined), 10);
    try {
      expect(parseResponse(await conn.closed).status).toBe(408);
    } finally {
      clearInterval(timer);
    }
  });

  it('a Content-Length body that never completes gets the JSON 408 request_timeout', async () => {
    const s = await sidecar({ headersTimeoutMs: 100, requestTimeoutMs: 200 });
    const held = heldPost(s.url);
    const res = parseResponse(await held.closed);
    expect(res.status).toBe(408);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toEqual({
      decision: 'DENY',
      reason: 'request_timeout',
      message: expect.any(String),
    });
  });

  it('a body trickled slower than the timeout gets the JSON 408 as well', async () => {
    const s = await sidecar({ headersTimeoutMs: 100, requestTimeoutMs: 250 });
    const conn = rawConnection(s.url);
    conn.write(
      `POST /v1/is-authorized HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: ${IS_AUTHORIZED.length}\r\n\r\n`,
    );
    let i = 0;
    const timer = setInterval(
      () => (i < IS_AUTHORIZED.length ? conn.write(IS_AUTHORIZED[i++]!) : undefined),
      20,
    );
    try {
      const res = parseResponse(await conn.closed);
      expect(res.status).toBe(408);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'request_timeout' });
      expect(i).toBeLessThan(IS_AUTHORIZED.length);
    } finally {
      clearInterval(timer);
    }
  });

  it('on the AuthZEN door the 408 is in AuthZEN error shape, X-Request-ID echoed', async () => {
    const s = await sidecar({ headersTimeoutMs: 100, requestTimeoutMs: 200 });
    const conn = rawConnection(s.url);
    conn.write(
      'POST /access/v1/evaluation HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nX-Request-ID: slow-1\r\nContent-Length: 100\r\n\r\n{"subject"',
    );
    const res = parseResponse(await conn.closed);
    expect(res.status).toBe(408);
    expect(res.headers['x-request-id']).toBe('slow-1');
    expect(JSON.parse(res.body)).toEqual({ error: 'request_timeout', message: expect.any(String) });
  });

  it('on the AVP door the 408 is an AWS ValidationException with status 408', async () => {
    const s = await sidecar(
      { headersTimeoutMs: 100, requestTimeoutMs: 200 },
      { avpDoor: { enabled: true, port: 0 } },
    );
    const conn = rawConnection(s.avpUrl!);
    conn.write(
      'POST / HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: VerifiedPermissions.IsAuthorized\r\nContent-Length: 100\r\n\r\n{',
    );
    const res = parseResponse(await conn.closed);
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toMatchObject({ __type: expect.stringContaining('ValidationException') });
  });

  it('a body that completes in time is decided as usual', async () => {
    const s = await sidecar({ headersTimeoutMs: 100, requestTimeoutMs: 2_000 });
    const held = heldPost(s.url);
    held.finish();
    await waitFor('the answer', async () => (held.received().includes('\r\n\r\n{') ? true : undefined));
    held.socket.end();
    const res = parseResponse(await held.closed);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ decision: 'ALLOW' });
  });
});

describe('a flood beyond server.maxInFlight', () => {
  it('answers 503 overloaded with Retry-After at once, keeps probes answering and keeps serving', async () => {
    const s = await sidecar({ maxInFlight: 2, requestTimeoutMs: 10_000 }, { metrics: { enabled: true } });
    const held = [heldPost(s.url), heldPost(s.url)];
    // Both held requests are in their handlers once one more request is refused.
    await waitFor('the limit to be reached', async () =>
      (await postJson(`${s.url}/v1/is-authorized`, IS_AUTHORIZED)).status === 503 ? true : undefined,
    );
    const flood = await Promise.all(
      Array.from({ length: 50 }, () => postJson(`${s.url}/v1/is-authorized`, IS_AUTHORIZED)),
    );
    for (const res of flood) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.json).toEqual({ decision: 'DENY', reason: 'overloaded', message: expect.any(String) });
    }
    // Probes and scrapes are not counted.
    expect((await getJson(`${s.url}/healthz`)).status).toBe(200);
    expect((await getJson(`${s.url}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${s.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/authz_http_requests_total\{[^}]*status="503"[^}]*\} (\d+)/);

    for (const h of held) h.finish();
    for (const h of held) {
      await waitFor('the held answer', async () => (h.received().includes('"decision"') ? true : undefined));
      expect(parseResponse(h.received()).status).toBe(200);
      h.socket.end();
    }
    // The slots are free again.
    const after = await postJson(`${s.url}/v1/is-authorized`, IS_AUTHORIZED);
    expect(after.status).toBe(200);
    expect(after.json).toMatchObject({ decision: 'ALLOW' });
  });
});

describe('drain on close()', () => {
  it('readyz 503 draining first; the slow request finishes; new connections are refused; idle keep-alive closed', async () => {
    const s = await sidecar({ drainDelayMs: 300, shutdownGraceMs: 5_000, requestTimeoutMs: 10_000 });
    running.splice(running.indexOf(s), 1);
    // An idle keep-alive connection: one request answered, the socket kept.
    const idle = rawConnection(s.url);
    idle.write('GET /healthz HTTP/1.1\r\nHost: sidecar\r\n\r\n');
    await waitFor('the keep-alive answer', async () => (idle.received().includes('"ok"') ? true : undefined));
    const slow = heldPost(s.url);
    await waitFor('the slow request to be in its handler', async () =>
      slow.received() === '' ? true : undefined,
    );

    const closed = s.close();
    const ready = await getJson(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ ready: false, draining: true });
    expect(ready.headers.get('connection')).toBe('close');

    // After drainDelayMs the listener is gone, and the idle keep-alive connection with it.
    await waitFor('new connections to be refused', () => refused(s.url), 3_000);
    await idle.closed;
    // The slow request is still in flight, and finishes.
    slow.finish();
    const res = parseResponse(await slow.closed);
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toMatchObject({ decision: 'ALLOW' });
    await closed;
  });

  it('a request still running after shutdownGraceMs is cut off and close() returns', async () => {
    const s = await sidecar({ shutdownGraceMs: 200, requestTimeoutMs: 10_000 });
    running.splice(running.indexOf(s), 1);
    const slow = heldPost(s.url);
    await waitFor('the slow request to be in its handler', async () =>
      slow.received() === '' ? true : undefined,
    );
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await slow.closed;
    expect(await s.close()).toBeUndefined(); // a second close() is the same drain
  });
});

type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: any) => void) => void;
function grpcClients(target: string) {
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
    authz: new envoy.envoy.service.auth.v3.Authorization(target, credentials) as grpc.Client & {
      Check: Unary;
    },
    health: new health.grpc.health.v1.Health(target, credentials) as grpc.Client & {
      Check: Unary;
      Watch(req: unknown): grpc.ClientReadableStream<{ status: string }>;
    },
  };
}
const unary = (fn: Unary, client: grpc.Client, req: unknown) =>
  new Promise<any>((resolve, reject) =>
    fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res))),
  );
const checkRequest = {
  attributes: { request: { http: { method: 'GET', path: '/x', host: 'h', headers: { ':path': '/x' } } } },
};

describe('drain on SIGTERM (the CLI as users run it)', () => {
  it(
    'readyz 503 draining, the slow request finishes, new connections refused, exit 0',
    { timeout: 30_000 },
    async () => {
      const tmp = tempDir('authz-sigterm-');
      const port = await freePort();
      const config = path.join(tmp.dir, 'authz.yaml');
      writeFileSync(
        config,
        [
          `server: { port: ${port}, drainDelayMs: 300, shutdownGraceMs: 5000, requestTimeoutMs: 20000 }`,
          `policies: { dir: ${JSON.stringify(path.join(REPO_ROOT, 'policies'))}, watch: false }`,
          'log: { level: warn }',
          'decisionLog: { enabled: false }',
        ].join('\n'),
      );
      const child = spawn(
        process.execPath,
        [path.join(REPO_ROOT, 'bin/authz-sidecar.js'), 'serve', '--config', config],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = once(child, 'exit');
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitFor(
          `the sidecar to come up (${stderr})`,
          () =>
            fetch(`${url}/readyz`).then(
              (r) => (r.ok ? true : undefined),
              () => undefined,
            ),
          20_000,
          100,
        );
        const slow = heldPost(url);
        await waitFor('the slow request to be read', async () =>
          (await postJson(`${url}/v1/is-authorized`, IS_AUTHORIZED)).status === 200 ? true : undefined,
        );
        child.kill('SIGTERM');
        await waitFor('readyz to say draining', async () => {
          const r = await fetch(`${url}/readyz`).catch(() => undefined);
          if (!r) return undefined;
          const body = (await r.json()) as { draining?: boolean };
          return r.status === 503 && body.draining ? true : undefined;
        });
        await waitFor('new connections to be refused', () => refused(url), 5_000);
        slow.finish();
        const res = parseResponse(await slow.closed);
        expect(res.status).toBe(200);
        expect(JSON.parse(res.body)).toMatchObject({ decision: 'ALLOW' });
        const [code] = (await exited) as [number];
        expect(code).toBe(0);
      } finally {
        child.kill('SIGKILL');
        tmp.remove();
      }
    },
  );
});

describe('gRPC drain', () => {
  it('a running Check finishes after close() starts; new calls are refused', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = false;
    const allow: Decision = {
      decision: 'ALLOW',
      decisionId: 'd-1',
      determiningPolicies: [],
      errors: [],
      cached: false,
    };
    const pipeline: Pipeline = {
      decide: async () => {
        entered = true;
        await gate;
        return allow;
      },
      decideBatch: () => Promise.reject(new Error('unused')),
      // The gRPC door asks decideRaw first; as in the real pipeline, a miss is parsed and decided.
      decideRaw: (_raw, _token, parse) => pipeline.decide(parse()),
      repeat: () => Promise.resolve({ miss: {} }),
    };
    const server = await startGrpcServer({
      pipeline,
      routes: undefined,
      extAuthz: ExtAuthzSchema.parse({}),
      grpc: GrpcSchema.parse({ enabled: true, port: 0, healthPollMs: 20 }),
      ready: () => true,
    });
    const a = grpcClients(server.target);
    const inFlight = unary(a.authz.Check, a.authz, checkRequest);
    await waitFor('the Check to reach the pipeline', async () => (entered ? true : undefined));
    const closed = server.close(5_000);
    // A new connection is refused once the listener is gone.
    const b = grpcClients(server.target);
    await expect(
      unary(b.health.Check, b.health, { service: '' }).finally(() => b.health.close()),
    ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    release();
    expect(await inFlight).toMatchObject({ status: { code: 0 } });
    await closed;
    a.authz.close();
    a.health.close();
  });

  it('a Check still running after the grace is cancelled (forceShutdown)', async () => {
    let arrived = false;
    const pipeline: Pipeline = {
      decide: () => {
        arrived = true;
        return new Promise(() => undefined);
      },
      decideBatch: () => Promise.reject(new Error('unused')),
      // The gRPC door asks decideRaw first; as in the real pipeline, a miss is parsed and decided.
      decideRaw: (_raw, _token, parse) => pipeline.decide(parse()),
      repeat: () => Promise.resolve({ miss: {} }),
    };
    const server = await startGrpcServer({
      pipeline,
      routes: undefined,
      extAuthz: ExtAuthzSchema.parse({}),
      grpc: GrpcSchema.parse({ enabled: true, port: 0 }),
      ready: () => true,
    });
    const a = grpcClients(server.target);
    const stuck = unary(a.authz.Check, a.authz, checkRequest);
    await waitFor('the Check to reach the pipeline', async () => (arrived ? true : undefined));
    const started = Date.now();
    await server.close(100);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(stuck).rejects.toMatchObject({ code: expect.any(Number) });
    a.authz.close();
    a.health.close();
  });

  it('the sidecar: health turns NOT_SERVING on close() while Check still answers during drainDelayMs', async () => {
    const s = await sidecar(
      { drainDelayMs: 400, shutdownGraceMs: 1_000 },
      { grpc: { enabled: true, healthPollMs: 5_000 } },
    );
    running.splice(running.indexOf(s), 1);
    const c = grpcClients(s.grpc!.target);
    expect(await unary(c.health.Check, c.health, { service: '' })).toEqual({ status: 'SERVING' });
    const seen: string[] = [];
    const stream = c.health.Watch({ service: 'envoy.service.auth.v3.Authorization' });
    stream.on('data', (m: { status: string }) => seen.push(m.status));
    stream.on('error', () => undefined);
    await waitFor('the first Watch status', async () => (seen.length ? true : undefined));
    const closed = s.close();
    // Pushed at once, not at the next poll (5 s away).
    await waitFor(
      'NOT_SERVING on the Watch',
      async () => (seen.includes('NOT_SERVING') ? true : undefined),
      1_000,
    );
    expect(await unary(c.health.Check, c.health, { service: '' })).toEqual({ status: 'NOT_SERVING' });
    // Still deciding during the delay (a DENY here: no route, but an answer).
    expect(await unary(c.authz.Check, c.authz, checkRequest)).toHaveProperty('status');
    await closed;
    c.authz.close();
    c.health.close();
  });
});

describe('a failed start', () => {
  it('closes everything it opened when the gRPC port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const grpcPort = (blocker.address() as net.AddressInfo).port;
    const [httpPort, avpPort] = [await freePort(), await freePort()];
    const tmp = tempDir('authz-failed-start-');
    const logFile = path.join(tmp.dir, 'decisions.log');
    try {
      await expect(
        startTestSidecar({
          server: { port: httpPort },
          policies: { dir: 'policies', watch: true },
          avpDoor: { enabled: true, port: avpPort },
          decisionLog: { enabled: true, destination: logFile },
          grpc: { enabled: true, host: '127.0.0.1', port: grpcPort },
        }),
      ).rejects.toThrow(
        expect.objectContaining({
          name: StartupError.name,
          message: expect.stringMatching(/^gRPC server: cannot listen/),
        }),
      );
      // Both HTTP listeners are closed: their ports can be bound again.
      for (const port of [httpPort, avpPort]) {
        const probe = net.createServer();
        await new Promise<void>((resolve, reject) => {
          probe.once('error', reject);
          probe.listen(port, '127.0.0.1', resolve);
        });
        await new Promise((r) => probe.close(r));
      }
      // The decision-log file is no longer held open.
      await waitFor('the decision log to be closed', async () =>
        openFiles().includes(logFile) ? undefined : true,
      );
    } finally {
      blocker.close();
      tmp.remove();
    }
  });
});

/** Files this process holds open (Linux). */
function openFiles(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}
