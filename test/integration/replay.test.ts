import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevSidecar, type DevSidecar } from '../support/dev-config.js';
import { postJson, REPO_ROOT } from '../support/sidecar.js';
import { copyOfSamplePolicies, tempDir } from '../support/temp.js';

/**
 * "What would this policy change have done to yesterday's traffic?": a real sidecar (config/dev.yaml)
 * records a replayable decision log under a mix of users of two tenants and services; a copy of
 * the stores widens one permit and tightens one forbid; `authz-sidecar replay` (the built CLI, as a
 * user runs it) must name exactly the flips those two edits cause, and no others.
 */
const BIN = path.join(REPO_ROOT, 'bin', 'authz-sidecar.js');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO_ROOT, timeout: 60_000 },
      (_e, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

const live = copyOfSamplePolicies();
const work = tempDir('replay-');
const LOG = path.join(work.dir, 'decisions.log');
const candidate = path.join(work.dir, 'candidate');
let dev: DevSidecar;

const initiate = (
  id: string,
  tenantId: string,
  accountType: string,
  context: Record<string, unknown> = {},
) => ({
  action: { type: 'Payments::Action', id: 'InitiatePayment' },
  resource: { type: 'Payments::Account', id, attributes: { tenantId, accountType, country: 'GB' } },
  context,
});
const settle = (id: string, amount: string) => ({
  action: { type: 'Payments::Action', id: 'SettlePayment' },
  resource: {
    type: 'Payments::Payment',
    id,
    attributes: { tenantId: 'acme', amount, currency: 'EUR', destinationCountry: 'DE', status: 'APPROVED' },
  },
});

/** decision id by a name for each recorded request, to check the report names exactly them. */
const ids: Record<string, string> = {};

beforeAll(async () => {
  dev = await startDevSidecar({
    policies: { dir: live.dir, watch: false },
    decisionLog: { destination: LOG, replayable: true, maskPaths: ['context.destinationCountry'] },
  });
  const user = (sub: string, tenant: string, group: string) =>
    dev.token({ kind: 'user', sub, groups: [group], claims: { 'custom:tenantId': tenant } });
  const [alice, gina, settler, reporter] = await Promise.all([
    user('alice', 'acme', 'PAYMENT_INITIATOR'),
    user('gina', 'globex', 'PAYMENT_INITIATOR'),
    dev.token({ kind: 'service', clientId: 'settlement-svc', scopes: ['payments/settle'] }),
    dev.token({ kind: 'service', clientId: 'reporting-svc', scopes: ['payments/read'] }),
  ]);
  const ask = async (name: string, token: string, body: unknown, expected: 'ALLOW' | 'DENY') => {
    const res = await postJson(`${dev.sidecar.url}/v1/authorize`, body, { authorization: `Bearer ${token}` });
    expect(res.json.decision, name).toBe(expected);
    ids[name] = res.json.decisionId as string;
  };
  await ask('alice business', alice, initiate('acme-ops', 'acme', 'BUSINESS'), 'ALLOW');
  await ask('alice personal', alice, initiate('acme-savings', 'acme', 'PERSONAL'), 'DENY');
  await ask('alice personal again', alice, initiate('acme-savings', 'acme', 'PERSONAL'), 'DENY'); // a cache hit
  await ask('alice other tenant', alice, initiate('globex-main', 'globex', 'PERSONAL'), 'DENY');
  await ask(
    'alice masked',
    alice,
    initiate('acme-ops', 'acme', 'PERSONAL', { destinationCountry: 'DE' }),
    'DENY',
  );
  await ask('gina business', gina, initiate('globex-main', 'globex', 'BUSINESS'), 'ALLOW');
  await ask('gina personal', gina, initiate('globex-home', 'globex', 'PERSONAL'), 'DENY');
  await ask('settle large', settler, settle('pay-1', '1200.50'), 'ALLOW');
  await ask('settle small', settler, settle('pay-2', '99.00'), 'ALLOW');
  await ask('reporting settles', reporter, settle('pay-1', '1200.50'), 'DENY');
  await ask('bad token', 'not-a-token', settle('pay-1', '1200.50'), 'DENY');
  await dev.sidecar.close();

  // The candidate: one permit widened (PERSONAL accounts too), one forbid tightened (above 1,000).
  cpSync(live.dir, candidate, { recursive: true });
  const edit = (file: string, from: string, to: string) => {
    const p = path.join(candidate, file);
    const text = readFileSync(p, 'utf8');
    expect(text).toContain(from);
    writeFileSync(p, text.replace(from, to));
  };
  edit(
    'customers/accounts.cedar',
    'when { resource.accountType == "BUSINESS" };',
    'when { resource.accountType == "BUSINESS" || resource.accountType == "PERSONAL" };',
  );
  edit('services/settlement.cedar', 'decimal("1000000.0000")', 'decimal("1000.0000")');
}, 60_000);

afterAll(() => {
  live.remove();
  work.remove();
});

describe('authz-sidecar replay', () => {
  it('names exactly the flips the change causes, DENY→ALLOW first, and exits 1 for them', async () => {
    const { code, stdout } = await cli([
      'replay',
      '--log',
      LOG,
      '--store',
      candidate,
      '--baseline',
      live.dir,
      '--json',
      '--examples',
      '10',
    ]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.decisions).toBe(11);
    expect(report.replayed).toBe(9);
    expect(report.unchanged).toBe(5);
    expect(report.skipped).toEqual([
      {
        reason: 'denied before reaching a store (malformed_token)',
        count: 1,
        examples: [expect.any(String)],
      },
      { reason: 'masked: context.destinationCountry', count: 1, examples: [ids['alice masked']] },
    ]);
    expect(report.denyToAllow).toEqual({
      count: 3,
      groups: [
        {
          now: ['initiator-business-accounts'],
          was: [],
          count: 3,
          examples: [ids['alice personal'], ids['alice personal again'], ids['gina personal']],
        },
      ],
    });
    expect(report.allowToDeny).toEqual({
      count: 1,
      groups: [
        {
          now: ['no-automatic-large-settlement'],
          was: ['settle-with-scope'],
          count: 1,
          examples: [ids['settle large']],
        },
      ],
    });
    // The diff comes first: the two edited policies, nothing else.
    const changed = report.diffs.flatMap(
      (d: { new: { name: string }; changes: { id: string; change: string }[] }) =>
        d.changes.map((c) => `${d.new.name}:${c.id}:${c.change}`),
    );
    expect(changed).toEqual([
      'customers:initiator-business-accounts:changed',
      'services:no-automatic-large-settlement:changed',
    ]);
  });

  it('prints the same report for people, and --allow-gains exits 0', async () => {
    const { code, stdout } = await cli([
      'replay',
      '--log',
      LOG,
      '--store',
      candidate,
      '--baseline',
      live.dir,
      '--allow-gains',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/changed +policy +initiator-business-accounts \(permit\)/);
    expect(stdout).toMatch(/replayed 9 of 11 recorded decisions in [\d.]+ s: 5 unchanged, 4 flipped/);
    expect(stdout.indexOf('DENY → ALLOW')).toBeLessThan(stdout.indexOf('ALLOW → DENY'));
    expect(stdout).toMatch(
      /DENY → ALLOW[^\n]*: 3\n +3 +now determined by initiator-business-accounts \(was: none\)/,
    );
    expect(stdout).toContain('masked: context.destinationCountry');
  });

  it('the unchanged stores replay with no flip and exit 0', async () => {
    const { code, stdout } = await cli(['replay', '--log', LOG, '--store', live.dir, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      replayed: 9,
      unchanged: 9,
      denyToAllow: { count: 0 },
      allowToDeny: { count: 0 },
    });
  });

  it('a single store replays only its own decisions; the rest are skipped with the reason', async () => {
    const { code, stdout } = await cli([
      'replay',
      '--log',
      LOG,
      '--store',
      path.join(candidate, 'services'),
      '--json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ replayed: 3, allowToDeny: { count: 1 }, denyToAllow: { count: 0 } });
    expect(report.skipped).toContainEqual(
      expect.objectContaining({ reason: 'no candidate for store customers', count: 6 }),
    );
  });

  it('a log without decisionLog.replayable is reported as not replayable, never guessed', async () => {
    const plain = path.join(work.dir, 'plain.log');
    const lines = readFileSync(LOG, 'utf8').split('\n').filter(Boolean);
    writeFileSync(
      plain,
      `${lines
        .map((l) => {
          const { request: _request, masked: _masked, ...rest } = JSON.parse(l);
          return JSON.stringify(rest);
        })
        .join('\n')}\n{"level":30,"msg":"not a decision"}\n`,
    );
    const { code, stdout } = await cli(['replay', '--log', plain, '--store', candidate, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      lines: 12,
      decisions: 11,
      replayed: 0,
      skipped: [{ reason: 'logged without decisionLog.replayable', count: 11 }],
    });
  });

  it('bad options and unreadable inputs exit 2 naming the cause', async () => {
    const missing = await cli(['replay', '--log', path.join(work.dir, 'nope.log'), '--store', candidate]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--log .*nope\.log: no such file/);
    const noStore = await cli(['replay', '--log', LOG]);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain('--store is required');
    const broken = path.join(work.dir, 'broken');
    cpSync(path.join(candidate, 'services'), broken, { recursive: true });
    writeFileSync(path.join(broken, 'settlement.cedar'), 'permit (principal, action, resource) when {');
    const bad = await cli(['replay', '--log', LOG, '--store', `services=${broken}`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/store services .* does not load:\n.*settlement\.cedar:1/);
  });
});

describe('authz-sidecar diff', () => {
  it('lists the changed policies by id and exits 1; the same store twice exits 0', async () => {
    const changed = await cli([
      'diff',
      '--store',
      path.join(live.dir, 'services'),
      '--store',
      path.join(candidate, 'services'),
    ]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/changed +policy +no-automatic-large-settlement \(forbid\)/);
    expect(changed.stdout).toContain('schema unchanged; entities unchanged');
    const same = await cli([
      'diff',
      '--store',
      path.join(live.dir, 'customers'),
      '--store',
      path.join(live.dir, 'customers'),
      '--json',
    ]);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ changes: [], schema: 'unchanged' });
    const one = await cli(['diff', '--store', live.dir]);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('--store twice');
  });
});
