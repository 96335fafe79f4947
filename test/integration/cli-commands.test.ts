import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/sidecar.js';
import { tempDir } from '../support/temp.js';

/**
 * The CLI as users run it: help on every command, --version, `eval` (decision, explanation, JSON,
 * exit codes), and the errors a newcomer hits (a store folder that is not there, a token command
 * that would silently make a new key).
 */
const BIN = path.join(REPO_ROOT, 'bin', 'authz-sidecar.js');
const temp = tempDir('cli-commands-');
afterAll(() => temp.remove());

function cli(
  args: string[],
  cwd = REPO_ROOT,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--liftoff-only', BIN, ...args],
      { cwd, timeout: 110_000 },
      (_e, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

const ENTITIES = [
  {
    uid: { type: 'Payments::User', id: 'alice' },
    attrs: { tenantId: 'acme' },
    parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' }],
  },
  {
    uid: { type: 'Payments::Account', id: 'acme-personal' },
    attrs: { tenantId: 'acme', accountType: 'PERSONAL', country: 'GB' },
    parents: [{ type: 'Payments::Tenant', id: 'acme' }],
  },
  {
    uid: { type: 'Payments::Account', id: 'acme-ops' },
    attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
    parents: [{ type: 'Payments::Tenant', id: 'acme' }],
  },
];
const entitiesFile = path.join(temp.dir, 'entities.json');
writeFileSync(entitiesFile, JSON.stringify(ENTITIES));
const question = (account: string) => [
  'eval',
  '--store',
  path.join(REPO_ROOT, 'policies/customers'),
  '--principal',
  'Payments::User::"alice"',
  '--action',
  'Payments::Action::"InitiatePayment"',
  '--resource',
  `Payments::Account::"${account}"`,
  '--context',
  '{"destinationCountry":"DE"}',
  '--entities',
  entitiesFile,
];

describe('help and version', () => {
  it.each(['serve', 'validate', 'test', 'token', 'eval'])(
    '%s --help and -h print its options and exit 0',
    async (command) => {
      const [long, short] = await Promise.all([cli([command, '--help']), cli([command, '-h'])]);
      expect(long.code).toBe(0);
      expect(long.stdout).toMatch(new RegExp(`^usage: authz-sidecar ${command}`));
      expect(short.stdout).toBe(long.stdout);
    },
  );

  it('the top-level help lists every command and the token options; --version prints the version', async () => {
    const [help, version] = await Promise.all([cli(['--help']), cli(['--version'])]);
    expect(help.code).toBe(0);
    for (const word of [
      'serve',
      'validate',
      'test',
      'eval',
      'token',
      '--expires-in',
      '--issuer',
      '--key-dir',
      '--version',
    ])
      expect(help.stdout).toContain(word);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('authz-sidecar eval', () => {
  it('ALLOW exits 0, DENY exits 1, each with the determining policies', async () => {
    const [allow, deny] = await Promise.all([cli(question('acme-ops')), cli(question('acme-personal'))]);
    expect(allow).toMatchObject({ code: 0 });
    expect(allow.stdout).toBe('ALLOW (determining: initiator-business-accounts)\n');
    expect(deny).toMatchObject({ code: 1 });
    expect(deny.stdout).toBe('DENY\n');
  });

  it('--explain names the closest policy and the failing condition; --json is the decision as JSON', async () => {
    const [explained, json] = await Promise.all([
      cli([...question('acme-personal'), '--explain']),
      cli([...question('acme-personal'), '--explain', '--json']),
    ]);
    expect(explained.stdout).toContain(
      'DENY: no permit matched; closest: initiator-business-accounts (scope matched; condition false at resource.accountType == "BUSINESS" (left: "PERSONAL"))',
    );
    const parsed = JSON.parse(json.stdout) as { decision: string; explanation: { summary: string } };
    expect(parsed.decision).toBe('DENY');
    expect(parsed.explanation.summary).toMatch(/^DENY: no permit matched/);
  });

  it('a request the schema refuses exits 2 naming the cause; a bad uid or a missing option is a usage error', async () => {
    const [badContext, badUid, missing] = await Promise.all([
      cli([
        ...question('acme-ops').slice(0, -4),
        '--context',
        '{"destinationCountry":42}',
        '--entities',
        entitiesFile,
      ]),
      cli(['eval', '--store', 'customers', '--principal', 'alice', '--action', 'a', '--resource', 'r']),
      cli(['eval', '--store', 'customers']),
    ]);
    expect(badContext.code).toBe(2);
    expect(badContext.stdout).toMatch(/invalid request: .*destinationCountry/);
    expect(badUid.code).toBe(1);
    expect(badUid.stderr).toMatch(/--principal: expected an entity like Type::"id"/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--principal is required/);
  });

  it('a store name is looked up under the config’s policies folder', async () => {
    const named = await cli([
      ...question('acme-ops').slice(0, 1),
      '--store',
      'customers',
      ...question('acme-ops').slice(3),
    ]);
    expect(named).toMatchObject({ code: 0 });
  });
});

describe('errors a newcomer hits', () => {
  it('validate on a path that does not exist, or holds no store, is an error, not "0 valid"', async () => {
    const empty = path.join(temp.dir, 'empty');
    mkdirSync(empty);
    const [missing, none] = await Promise.all([
      cli(['validate', path.join(temp.dir, 'nope')]),
      cli(['validate', empty]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/holds no policy store/);
  });

  it('token never makes a new key by accident: a config whose key folder is empty is an error naming it', async () => {
    const config = path.join(temp.dir, 'other.yaml');
    writeFileSync(config, 'dev:\n  keyDir: ./keys-that-do-not-exist\n');
    const res = await cli(['token', '--sub', 'alice', '--config', config], temp.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/no development key in .*keys-that-do-not-exist/);
    expect(res.stdout).toBe('');
  });

  it('token says which key and issuer signed it (on stderr, so $(...) captures only the token)', async () => {
    const keyDir = path.join(temp.dir, 'keys');
    const res = await cli(['token', '--sub', 'alice', '--key-dir', keyDir], temp.dir);
    expect(res.code).toBe(0);
    expect(res.stdout.trim().split('.')).toHaveLength(3);
    expect(res.stderr).toMatch(
      new RegExp(`signed with key \\S+ in ${keyDir.replace(/[/\\]/g, '.')}, issuer urn:authz-sidecar:dev`),
    );
  });
});

describe('tests.yaml errors', () => {
  it('name the line and the case', async () => {
    const store = path.join(temp.dir, 'suite');
    mkdirSync(store);
    writeFileSync(path.join(store, 'p.cedar'), 'permit (principal, action, resource);\n');
    writeFileSync(
      path.join(store, 'tests.yaml'),
      `cases:
  - name: first case
    principal: { type: User, id: a }
    action: { type: Action, id: read }
    resource: { type: Doc, id: d }
    expect: ALLOW
  - name: the broken one
    principal: { type: User, id: a }
    action: { type: Action, id: read }
    resource: { type: Doc, id: d }
    expect: MAYBE
`,
    );
    const res = await cli(['test', store]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/line 11: case "the broken one": cases\.1\.expect: /);
  });
});
