import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { startTestSidecar } from '../support/sidecar.js';

/** Errors a newcomer hits over HTTP, each naming its cause: a wrong method, two Authorization headers. */
let sidecar: Sidecar;
beforeAll(async () => {
  sidecar = await startTestSidecar({ policies: { watch: false } });
});
afterAll(async () => sidecar?.close());

/** Node sends an array value as that many header lines (the way to send a header twice). */
type Headers = Record<string, string | string[]>;

function send(method: string, path: string, headers: Headers, body?: string) {
  const { hostname, port } = new URL(sidecar.url);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; json: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = http.request(
        { host: hostname, port, method, path, headers: headers as http.OutgoingHttpHeaders },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(text || '{}') }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('HTTP errors that name their cause', () => {
  it.each([
    ['GET', '/v1/authorize', 'POST'],
    ['PUT', '/v1/is-authorized', 'POST'],
    ['DELETE', '/v1/stores/customers', 'GET, HEAD'],
    ['POST', '/readyz', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s', async (method, path, allow) => {
    const res = await send(method, path, {});
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'method_not_allowed' });
  });

  it('an unknown path is still 404', async () => {
    expect((await send('GET', '/v1/nope', {})).status).toBe(404);
  });

  it('two Authorization headers are a 400 naming the header, on /v1/authorize and the proxy door', async () => {
    const body = JSON.stringify({ action: { type: 'A', id: 'a' }, resource: { type: 'R', id: 'r' } });
    const headers = { 'content-type': 'application/json', authorization: ['Bearer one', 'Bearer two'] };
    const api = await send('POST', '/v1/authorize', headers, body);
    expect(api.status).toBe(400);
    expect(api.json).toMatchObject({
      reason: 'invalid_request',
      fields: [{ path: 'Authorization (header)' }],
    });
    const proxy = await send('GET', '/ext-authz/accounts/a1', {
      authorization: ['Bearer one', 'Bearer two'],
    });
    expect(proxy.status).toBe(400);
    expect(proxy.json).toMatchObject({ reason: 'invalid_request' });
    // One header is a token question, as before (here an invalid token: 401, not 400).
    const one = await send(
      'POST',
      '/v1/authorize',
      { 'content-type': 'application/json', authorization: 'Bearer one' },
      body,
    );
    expect(one.status).toBe(401);
  });
});
