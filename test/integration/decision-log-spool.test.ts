import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/peers.js';
import { REPO_ROOT, startTestSidecar } from '../support/sidecar.js';
import { tempDir, waitFor } from '../support/temp.js';

/**
 * `decisionLog.onFull: spool` as users run it: the real sidecar (the built CLI), its decision log on
 * a stdout pipe the test stops reading. A stalled reader and a restart must lose no decision: the
 * lines the pipe did not take go to the spool file, survive SIGTERM, and the next start writes
 * them out first, in order.
 */
const temp = tempDir('authz-spool-');
afterAll(() => temp.remove());
const spoolPath = path.join(temp.dir, 'decisions.spool');

function config(port: number): string {
  const file = path.join(temp.dir, `authz-${port}.yaml`);
  writeFileSync(
    file,
    [
      `server: { port: ${port}, shutdownGraceMs: 500 }`,
      `policies: { dir: ${JSON.stringify(path.join(REPO_ROOT, 'policies'))}, watch: false }`,
      'log: { level: warn }',
      'cache: { decisions: { enabled: false } }',
      `decisionLog: { onFull: spool, bufferSize: 50, spool: { path: ${JSON.stringify(spoolPath)} } }`,
    ].join('\n'),
  );
  return file;
}

async function start(
  port: number,
): Promise<{ child: ChildProcess; out: () => string; stderr: () => string }> {
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin/authz-sidecar.js'), 'serve', '--config', config(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(
    'the sidecar to be ready',
    () =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      ),
    20_000,
    100,
  );
  return { child, out: () => out, stderr: () => err };
}

const decide = (port: number, i: number) =>
  fetch(`http://127.0.0.1:${port}/v1/is-authorized`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      store: 'services',
      principal: { type: 'Payments::Service', id: 'fraud-svc' },
      action: { type: 'Payments::Action', id: 'ScreenPayment' },
      resource: { type: 'Payments::Payment', id: `p-${i}-${'x'.repeat(300)}` },
      entities: [
        {
          uid: { type: 'Payments::Service', id: 'fraud-svc' },
          attrs: { scopes: ['payments/screen'] },
          parents: [],
        },
      ],
    }),
  }).then(async (r) => ((await r.json()) as { decisionId: string }).decisionId);

/** Whole decision lines of a stream's text (a reader may see the last one cut short). */
const lines = (text: string) =>
  text
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.startsWith('{"type":"decision"'))
    .map((l) => JSON.parse(l) as { decisionId: string; time: string });

describe('decision log onFull: spool', () => {
  it(
    'a stalled reader and a restart lose no decision, and the spool is written out in order',
    { timeout: 90_000 },
    async () => {
      const port = await freePort();
      const first = await start(port);
      first.child.stdout!.pause(); // the collector stalls: the pipe fills (~64 KiB), then the buffer of 50
      const ids: string[] = [];
      for (let batch = 0; batch < 16; batch++)
        ids.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => decide(port, batch * 50 + j)))));
      await waitFor('lines in the spool', async () =>
        existsSync(spoolPath) && statSync(spoolPath).size > 0 ? true : undefined,
      );

      first.child.kill('SIGTERM');
      const [code] = (await once(first.child, 'exit')) as [number];
      expect(code).toBe(0);
      // What the pipe took before the stall is read now (the collector catching up after the exit).
      first.child.stdout!.resume();
      await once(first.child.stdout!, 'end');
      const before = lines(first.out());
      expect(statSync(spoolPath).size).toBeGreaterThan(0);

      const second = await start(port);
      const more = await decide(port, 10_000);
      await waitFor(
        'the spool written out',
        async () => (statSync(spoolPath).size === 0 && second.out().includes(more) ? true : undefined),
        10_000,
      );
      second.child.kill('SIGTERM');
      await once(second.child, 'exit');
      const after = lines(second.out());

      // Every decision is in the log, at least once (a line the pipe held half of is written again).
      const seen = [...before, ...after];
      const seenIds = new Set(seen.map((l) => l.decisionId));
      for (const id of [...ids, more]) expect(seenIds.has(id), id).toBe(true);
      // Duplicates only across the restart: a chunk the pipe had begun to take when the process
      // ended is spooled whole (at least once, never lost); within one run every line is once.
      const unique = (ls: { decisionId: string }[]) => new Set(ls.map((l) => l.decisionId)).size;
      expect(unique(before)).toBe(before.length);
      expect(unique(after)).toBe(after.length);
      // In order: the spool before the new run's own lines, and times never going back.
      expect(after.at(-1)!.decisionId).toBe(more);
      const times = seen
        .filter((l, i) => seen.findIndex((m) => m.decisionId === l.decisionId) === i)
        .map((l) => Date.parse(l.time));
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
    },
  );

  it('refuses onFull: spool without a spool path, naming the key', async () => {
    await expect(
      startTestSidecar({ policies: { watch: false }, decisionLog: { onFull: 'spool' } }),
    ).rejects.toThrow(/decisionLog\.spool\.path/);
    expect(readFileSync(spoolPath, 'utf8')).toBe('');
  });
});
