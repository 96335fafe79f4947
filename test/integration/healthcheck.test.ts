import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { REPO_ROOT, startTestSidecar } from '../support/sidecar.js';

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, 'bin/healthcheck.js');

/** Runs bin/healthcheck.js as the image's HEALTHCHECK and the Kubernetes exec probes do. */
async function healthcheck(env: Record<string, string>, ...args: string[]) {
  try {
    const { stderr } = await run(process.execPath, [SCRIPT, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

/** A port nothing listens on: bind one, note it, release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let ready: Sidecar;
let unready: Sidecar; // an issuer whose keys cannot load keeps /readyz at 503
beforeAll(async () => {
  [ready, unready] = await Promise.all([
    startTestSidecar({ policies: { watch: false } }),
    startTestSidecar({
      policies: { watch: false },
      issuers: [
        { name: 'keyless', issuer: 'urn:keyless', jwksFile: '/nonexistent/jwks.json', audiences: ['x'] },
      ],
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([ready?.close(), unready?.close()]);
});

describe('bin/healthcheck.js', () => {
  it('exits 0 for /healthz (the default path) and /readyz of a ready sidecar', async () => {
    expect((await healthcheck({ AUTHZ_PORT: String(ready.port) })).code).toBe(0);
    expect((await healthcheck({ AUTHZ_PORT: String(ready.port) }, '/readyz')).code).toBe(0);
  });

  it('reaches a sidecar bound to every interface on loopback', async () => {
    const r = await healthcheck({ AUTHZ_HOST: '0.0.0.0', AUTHZ_PORT: String(ready.port) });
    expect(r.code).toBe(0);
  });

  it('exits 1 and says why when /readyz is 503', async () => {
    expect((await healthcheck({ AUTHZ_PORT: String(unready.port) })).code).toBe(0);
    const r = await healthcheck({ AUTHZ_PORT: String(unready.port) }, '/readyz');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HTTP 503');
    expect(r.stderr).toContain('keyless');
  });

  it('exits 1 when nothing listens', async () => {
    const r = await healthcheck({ AUTHZ_PORT: String(await closedPort()) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ECONNREFUSED');
  });
});
