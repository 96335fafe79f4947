import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCommand } from '../../src/cli/test.js';
import { validateCommand } from '../../src/cli/validate.js';
import { compileStore } from '../../src/policy/compile-store.js';
import { readStoreFiles } from '../../src/policy/read-store.js';
import { REPO_ROOT, sampleStores } from '../support/sidecar.js';
import { copyOfSamplePolicies } from '../support/temp.js';

/**
 * The real CLI, spawned as users run it (`node bin/authz-sidecar.js`) over the built dist/
 * (`npm test` builds first). Each process compiles cedar-wasm's 4 MB module: ~2 s of CPU with
 * V8's optimizing tier, ~0.7 s with `--liftoff-only` (the baseline tier; same semantics), which
 * the spawned runs use to keep the suite fast. They are the few runs that matter and start
 * together; further cases call the commands in-process.
 */

const BIN = path.join(REPO_ROOT, 'bin', 'authz-sidecar.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--liftoff-only', BIN, ...args],
      { cwd: REPO_ROOT, timeout: 110_000 },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

/** The version each sample store has when loaded in-process (what the server reports). */
const versions = new Map<string, string>();
const versionOf = (store: string) => {
  if (!versions.has(store))
    versions.set(store, compileStore(store, readStoreFiles(path.join(REPO_ROOT, 'policies', store))).version);
  return versions.get(store)!;
};

const broken = copyOfSamplePolicies();
const runs: Record<'validate' | 'test' | 'validateBroken' | 'testBroken' | 'unknown', Run> = {} as never;
let oopsAt: string;

beforeAll(async () => {
  // A validation error (`principal.nope`) on a new last line of settlement.cedar.
  const settlement = path.join(broken.dir, 'services', 'settlement.cedar');
  const oops = '@id("oops") permit (principal, action, resource) when { principal.nope };';
  appendFileSync(settlement, `\n${oops}\n`);
  const line = readFileSync(settlement, 'utf8').trimEnd().split('\n').length;
  oopsAt = `settlement\\.cedar:${line}:${oops.indexOf('principal.nope') + 1}`;
  // A test case that expects the wrong decision.
  const tests = path.join(broken.dir, 'internal', 'tests.yaml');
  const text = readFileSync(tests, 'utf8');
  const edited = text.replace(
    /(- name: a junior on-call engineer does not\n(?: {4}.*\n)*? {4}expect: )DENY/,
    '$1ALLOW',
  );
  expect(edited).not.toBe(text);
  writeFileSync(tests, edited);

  const [validate, test, validateBroken, testBroken, unknown] = await Promise.all([
    cli(['validate', 'policies']),
    cli(['test', 'policies']),
    cli(['validate', broken.dir]),
    cli(['test', broken.dir]),
    cli(['frobnicate']),
  ]);
  Object.assign(runs, { validate, test, validateBroken, testBroken, unknown });
  // Generous: the runs take ~3 s together on an idle machine, far longer on a loaded one.
}, 120_000);
afterAll(() => broken.remove());

const linesOf = (text: string) => text.trimEnd().split('\n');

describe('authz-sidecar CLI (spawned)', () => {
  it('validate policies: one ok line per store with its version, a summary, exit 0', () => {
    const stores = sampleStores();
    const lines = linesOf(runs.validate.stdout);
    expect(lines).toHaveLength(stores.length + 1);
    stores.forEach((store, i) =>
      expect(lines[i]).toMatch(
        new RegExp(`^ok {4}${store}: \\d+ policies, \\d+ templates, version ${versionOf(store)}$`),
      ),
    );
    expect(lines).toContain(`ok    customers: 9 policies, 1 templates, version ${versionOf('customers')}`);
    expect(lines.at(-1)).toBe(`${stores.length} valid, 0 invalid`);
    expect(runs.validate.stderr).toBe('');
    expect(runs.validate.code).toBe(0);
  });

  it('test policies: a PASS line per tests.yaml case, a summary, exit 0', () => {
    const lines = linesOf(runs.test.stdout);
    const cases = lines.filter((l) => /^(PASS|FAIL) {2}/.test(l));
    const expected = sampleStores()
      .map((s) => readFileSync(path.join(REPO_ROOT, 'policies', s, 'tests.yaml'), 'utf8'))
      .reduce((n, text) => n + (text.match(/^ {2}- name: /gm)?.length ?? 0), 0);
    expect(cases).toHaveLength(expected);
    for (const line of cases)
      expect(line).toMatch(new RegExp(`^PASS {2}(${sampleStores().join('|')}): .+ — (ALLOW|DENY)`));
    expect(lines.at(-1)).toBe(`${expected} cases passed, 0 failed`);
    expect(runs.test.code).toBe(0);
  });

  it('validate on a broken policy exits 1 and locates it as file:line:col', () => {
    const lines = linesOf(runs.validateBroken.stdout);
    expect(lines).toContain('FAIL  services');
    expect(runs.validateBroken.stdout).toMatch(
      new RegExp(`^ {2}\\S*services/${oopsAt}: policy "oops": .*nope`, 'm'),
    );
    const others = sampleStores().filter((st) => st !== 'services');
    expect(lines.filter((l) => l.startsWith('ok '))).toEqual(
      others.map((st) => expect.stringMatching(new RegExp(`^ok {4}${st}: `))),
    );
    expect(lines.at(-1)).toBe(`${others.length} valid, 1 invalid`);
    expect(runs.validateBroken.code).toBe(1);
  });

  it('test with a failing case exits 1 with a FAIL line (and one for the store that does not load)', () => {
    const out = runs.testBroken.stdout;
    expect(out).toMatch(/^FAIL {2}internal: a junior on-call engineer does not — expected ALLOW, got DENY$/m);
    expect(out).toMatch(/^FAIL {2}services: the store does not load$/m);
    expect(out).toMatch(new RegExp(`^ {2}${oopsAt}: policy "oops"`, 'm'));
    expect(out).toMatch(/^PASS {2}customers: /m);
    expect(linesOf(out).at(-1)).toMatch(/^\d+ cases passed, 2 failed$/);
    expect(runs.testBroken.code).toBe(1);
  });

  it('an unknown command exits 2 with the usage', () => {
    expect(runs.unknown.stderr).toContain('unknown command "frobnicate"');
    expect(runs.unknown.stderr).toContain('usage:');
    expect(runs.unknown.code).toBe(2);
  });
});

/** Collects what a command writes. */
function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('CLI commands (in-process)', () => {
  it('validate takes a single store folder', async () => {
    const out = sink();
    expect(await validateCommand([path.join(REPO_ROOT, 'policies', 'services')], out.stream)).toBe(0);
    expect(linesOf(out.text())).toEqual([
      `ok    services: 4 policies, 0 templates, version ${versionOf('services')}`,
      '1 valid, 0 invalid',
    ]);
  });

  it('test takes a single store folder', async () => {
    const out = sink();
    expect(await testCommand([path.join(REPO_ROOT, 'policies', 'services')], out.stream)).toBe(0);
    expect(linesOf(out.text()).at(-1)).toMatch(/^\d+ cases passed, 0 failed$/);
  });

  it('an unknown option is a usage error naming it', async () => {
    await expect(validateCommand(['--strict'], sink().stream)).rejects.toThrow(/--strict[\s\S]*usage: /);
  });
});
