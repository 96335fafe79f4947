import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreLoadError } from '../policy/problems.js';
import { LocalStoreEngine } from './local.js';
import type { EngineRequest } from '../core/engine.js';

const SCHEMA = `entity User { level: Long };
entity Doc;
action read appliesTo { principal: User, resource: Doc };
`;
const OPEN =
  '@id("level-3-reads")\npermit (principal, action == Action::"read", resource) when { principal.level >= 3 };\n';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'authz-local-'));
  writeFileSync(path.join(dir, 'schema.cedarschema'), SCHEMA);
  writeFileSync(path.join(dir, 'p.cedar'), OPEN);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (level: unknown): EngineRequest => ({
  principal: { type: 'User', id: 'u' },
  action: { type: 'Action', id: 'read' },
  resource: { type: 'Doc', id: 'd' },
  context: {},
  entities: [{ uid: { type: 'User', id: 'u' }, attrs: { level: level as number }, parents: [] }],
});

describe('LocalStoreEngine', () => {
  it('is not ready and fails closed before it loads', async () => {
    const engine = new LocalStoreEngine('s', dir);
    expect(engine.status()).toEqual({ name: 's', engine: 'local', ready: false });
    expect(await engine.decide([read(5)])).toEqual([
      { kind: 'failed', reason: 'engine_unavailable', message: 'store not loaded' },
    ]);
  });

  it('answers a batch in order: evaluated allow, evaluated deny, invalid', async () => {
    const engine = new LocalStoreEngine('s', dir);
    const { version } = engine.load();
    const answers = await engine.decide([read(5), read(1), read('high')]);
    expect(answers[0]).toEqual({
      kind: 'evaluated',
      allow: true,
      determiningPolicies: ['level-3-reads'],
      errors: [],
      storeVersion: version,
    });
    expect(answers[1]).toMatchObject({ kind: 'evaluated', allow: false, determiningPolicies: [] });
    expect(answers[2]).toMatchObject({
      kind: 'invalid',
      storeVersion: version,
      message: expect.stringContaining('level'),
    });
  });

  it('fails its first load with the located problems', () => {
    writeFileSync(
      path.join(dir, 'p.cedar'),
      'permit (principal, action, resource) when { principal.nope };\n',
    );
    expect(() => new LocalStoreEngine('s', dir).load()).toThrow(StoreLoadError);
  });

  it('reload: unchanged files keep the version; an edit swaps it', async () => {
    const engine = new LocalStoreEngine('s', dir);
    const { version } = engine.load();
    expect(engine.reload()).toEqual({ ok: true, version, changed: false });
    writeFileSync(path.join(dir, 'p.cedar'), OPEN.replace('>= 3', '>= 9'));
    const result = engine.reload();
    expect(result).toMatchObject({ ok: true, changed: true });
    expect(result.ok && result.version).not.toBe(version);
    expect((await engine.decide([read(5)]))[0]).toMatchObject({ allow: false });
  });

  it('reload: a broken edit keeps the last good version serving and reports lastError', async () => {
    const engine = new LocalStoreEngine('s', dir);
    const { version } = engine.load();
    writeFileSync(
      path.join(dir, 'p.cedar'),
      `${OPEN}\n@id("bad") forbid (principal, action, resource) when { principal.nope };\n`,
    );
    const result = engine.reload();
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/p\.cedar:4:\d+: policy "bad"/) });
    expect(engine.status()).toMatchObject({
      ready: true,
      version,
      lastError: expect.stringContaining('policy "bad"'),
    });
    expect((await engine.decide([read(5)]))[0]).toMatchObject({ allow: true, storeVersion: version });

    // Restoring the served content clears the error without a swap.
    writeFileSync(path.join(dir, 'p.cedar'), OPEN);
    expect(engine.reload()).toEqual({ ok: true, version, changed: false });
    expect(engine.status().lastError).toBeUndefined();
  });

  it('reload: a vanished folder keeps the last good version serving', async () => {
    const engine = new LocalStoreEngine('s', dir);
    const { version } = engine.load();
    rmSync(dir, { recursive: true, force: true });
    expect(engine.reload()).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^cannot read store: /),
    });
    expect(engine.status()).toMatchObject({ ready: true, version });
    expect((await engine.decide([read(5)]))[0]).toMatchObject({ allow: true });
  });

  it('reload: a schema added or removed takes effect', async () => {
    const engine = new LocalStoreEngine('s', dir);
    engine.load();
    rmSync(path.join(dir, 'schema.cedarschema'));
    expect(engine.reload()).toMatchObject({ ok: true, changed: true });
    // Without a schema nothing checks the request: a string level is evaluated (and errors).
    expect((await engine.decide([read('high')]))[0]).toMatchObject({
      kind: 'evaluated',
      allow: false,
      errors: [{ policyId: 'level-3-reads', message: expect.any(String) }],
    });
    writeFileSync(path.join(dir, 'schema.cedarschema'), SCHEMA);
    expect(engine.reload()).toMatchObject({ ok: true, changed: true });
    expect((await engine.decide([read('high')]))[0]).toMatchObject({ kind: 'invalid' });
  });
});
