import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/peers.js';
import { REPO_ROOT } from '../support/sidecar.js';
import { tempDir, waitFor } from '../support/temp.js';

/**
 * The decision log goes to stdout, and stdout is whatever the platform gives: a pipe to a log
 * collector that can stall. The sidecar (spawned as users run it) must keep deciding while the
 * pipe is full, and still exit on SIGTERM within its grace period rather than waiting forever for
 * the collector.
 */
describe('a stalled decision-log pipe', () => {
  it('keeps deciding, and SIGTERM still exits within the grace period', { timeout: 60_000 }, async () => {
    const tmp = tempDir('authz-shutdown-');
    const dir = tmp.dir;
    const port = await freePort();
    const config = path.join(dir, 'authz.yaml');
    writeFileSync(
      config,
      [
        `server: { port: ${port}, shutdownGraceMs: 1000 }`,
        `policies: { dir: ${JSON.stringify(path.join(REPO_ROOT, 'policies'))}, watch: false }`,
        'log: { level: warn }',
        'cache: { decisions: { enabled: false } }',
      ].join('\n'),
    );
    // stdout is a pipe this test never reads: after ~64 KiB, every write would block.
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/authz-sidecar.js'), 'serve', '--config', config],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.pause();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        'the sidecar to come up',
        () =>
          fetch(`${base}/readyz`).then(
            (r) => (r.ok ? true : undefined),
            () => undefined,
          ),
        20_000,
        100,
      ).catch((err: Error) => {
        throw new Error(`${err.message}:\n${stderr}`);
      });
      // ~1,000 decision lines (several hundred KiB): far more than the pipe holds.
      const decide = (i: number) =>
        fetch(`${base}/v1/is-authorized`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            store: 'services',
            principal: { type: 'Payments::Service', id: 'fraud-svc' },
            action: { type: 'Payments::Action', id: 'ScreenPayment' },
            resource: { type: 'Payments::Payment', id: `p-${i}-${'x'.repeat(200)}` },
            entities: [
              {
                uid: { type: 'Payments::Service', id: 'fraud-svc' },
                attrs: { scopes: ['payments/screen'] },
                parents: [],
              },
            ],
          }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { decision: string } }));
      for (let batch = 0; batch < 20; batch++) {
        const answers = await Promise.all(Array.from({ length: 50 }, (_, j) => decide(batch * 50 + j)));
        for (const a of answers)
          expect(a).toEqual({ status: 200, body: expect.objectContaining({ decision: 'ALLOW' }) });
      }

      const started = Date.now();
      child.kill('SIGTERM');
      const [code] = (await Promise.race([
        once(child, 'exit'),
        new Promise((r) => setTimeout(() => r(['timed out']), 15_000)),
      ])) as [number | string];
      expect(code).toBe(0);
      // Grace period (1 s) for the HTTP server, then up to one more for the log.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      child.kill('SIGKILL');
      tmp.remove();
    }
  });
});
