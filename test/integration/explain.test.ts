import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { postJson, startTestSidecar } from '../support/sidecar.js';
import { tempDir } from '../support/temp.js';

/**
 * "Why was I denied?": explanations over the real server, for a forbid, a permit whose condition
 * is false, a missing attribute (an error), a scope mismatch and a template link; never cached;
 * refused on the token API when configured so.
 */
const temp = tempDir('explain-');
let sidecar: Sidecar;
let strict: Sidecar;

beforeAll(async () => {
  const store = path.join(temp.dir, 'policies', 'app');
  mkdirSync(store, { recursive: true });
  writeFileSync(
    path.join(store, 'policies.cedar'),
    `@id("needs-level")
permit (principal, action == Action::"read", resource) when { principal.level > 3 && resource.public == false };
@id("bob-only")
permit (principal == User::"bob", action, resource);
@id("block-delete")
forbid (principal, action == Action::"delete", resource) unless { principal.level > 9 };
@id("share")
permit (principal == ?principal, action == Action::"read", resource in ?resource);
`,
  );
  writeFileSync(
    path.join(store, 'links.json'),
    JSON.stringify([
      {
        templateId: 'share',
        newId: 'share-carol-d1',
        values: { '?principal': { type: 'User', id: 'carol' }, '?resource': { type: 'Doc', id: 'd1' } },
      },
    ]),
  );
  sidecar = await startTestSidecar({ policies: { dir: path.join(temp.dir, 'policies'), watch: false } });
  strict = await startTestSidecar({
    policies: { dir: path.join(temp.dir, 'policies'), watch: false },
    server: { explainTokenApi: false },
  });
});
afterAll(async () => {
  await sidecar?.close();
  await strict?.close();
  temp.remove();
});

const ask = (
  principal: string,
  action: string,
  attrs: Record<string, unknown>,
  resourceAttrs = { public: false },
) =>
  postJson(`${sidecar.url}/v1/is-authorized`, {
    store: 'app',
    principal: { type: 'User', id: principal },
    action: { type: 'Action', id: action },
    resource: { type: 'Doc', id: 'd1' },
    entities: [
      { uid: { type: 'User', id: principal }, attrs },
      { uid: { type: 'Doc', id: 'd1' }, attrs: resourceAttrs },
    ],
    explain: true,
  });

type Explained = {
  summary: string;
  policies: {
    policyId: string;
    condition: string;
    scope: Record<string, boolean>;
    failedAt?: { expression: string; values?: Record<string, string>; error?: string };
  }[];
};
const explanationOf = (res: Awaited<ReturnType<typeof ask>>) => res.json.explanation as Explained;
const policy = (e: Explained, id: string) => e.policies.find((p) => p.policyId === id)!;

describe('explanations', () => {
  it('a forbid: names it', async () => {
    const res = await ask('alice', 'delete', { level: 5 });
    expect(res.json).toMatchObject({ decision: 'DENY', determiningPolicies: [{ policyId: 'block-delete' }] });
    expect(explanationOf(res).summary).toBe('DENY: forbid block-delete matched');
    expect(policy(explanationOf(res), 'block-delete')).toMatchObject({ condition: 'true' });
  });

  it('a permit whose condition is false: the failing sub-expression with the value it saw', async () => {
    const e = explanationOf(await ask('alice', 'read', { level: 2 }));
    expect(policy(e, 'needs-level')).toMatchObject({
      scope: { principal: true, action: true, resource: true },
      condition: 'false',
      failedAt: { expression: 'principal.level > 3', values: { left: '2' } },
    });
    expect(e.summary).toBe(
      'DENY: no permit matched; closest: needs-level (scope matched; condition false at principal.level > 3 (left: 2))',
    );
    // The second conjunct is the one that fails when the first holds.
    const second = explanationOf(await ask('alice', 'read', { level: 5 }, { public: true }));
    expect(policy(second, 'needs-level').failedAt).toMatchObject({
      expression: 'resource.public == false',
      values: { left: 'true' },
    });
  });

  it('a missing attribute: an error, named', async () => {
    const res = await ask('alice', 'read', {});
    expect(res.json.errors).toEqual([expect.objectContaining({ policyId: 'needs-level' })]);
    const p = policy(explanationOf(res), 'needs-level');
    expect(p.condition).toBe('error');
    expect(p.failedAt!.expression).toBe('principal.level');
    expect(p.failedAt!.error).toMatch(/level/);
  });

  it('a scope mismatch: which part, and the condition is not evaluated', async () => {
    const p = policy(explanationOf(await ask('alice', 'read', { level: 5 })), 'bob-only');
    expect(p).toMatchObject({
      scope: { principal: false, action: true, resource: true },
      condition: 'not-evaluated',
    });
  });

  it('a template link: explained with its slot values', async () => {
    const carol = explanationOf(await ask('carol', 'read', { level: 0 }));
    expect(carol.summary).toBe('ALLOW: permit share-carol-d1 matched, no forbid matched');
    const alice = explanationOf(await ask('alice', 'read', { level: 0 }));
    expect(policy(alice, 'share-carol-d1')).toMatchObject({
      scope: { principal: false },
      condition: 'not-evaluated',
    });
  });

  it('is never cached: explained requests are decided afresh and leave nothing in the cache', async () => {
    for (let i = 0; i < 2; i++)
      expect((await ask('dave', 'read', { level: 7 })).json).toMatchObject({ cached: false });
    const plain = {
      store: 'app',
      principal: { type: 'User', id: 'dave' },
      action: { type: 'Action', id: 'read' },
      resource: { type: 'Doc', id: 'd1' },
      entities: [
        { uid: { type: 'User', id: 'dave' }, attrs: { level: 7 } },
        { uid: { type: 'Doc', id: 'd1' }, attrs: { public: false } },
      ],
    };
    expect((await postJson(`${sidecar.url}/v1/is-authorized`, plain)).json).toMatchObject({ cached: false });
    expect((await postJson(`${sidecar.url}/v1/is-authorized`, plain)).json).toMatchObject({ cached: true });
    expect((await postJson(`${sidecar.url}/v1/is-authorized`, plain)).json.explanation).toBeUndefined();
  });

  it('server.explainTokenApi: false refuses explain on the token API, naming the field', async () => {
    const body = {
      action: { type: 'Action', id: 'read' },
      resource: { type: 'Doc', id: 'd1' },
      explain: true,
    };
    for (const [p, b] of [
      ['/v1/authorize', body],
      ['/v1/authorize/batch', { items: [{ action: body.action, resource: body.resource }], explain: true }],
    ] as const) {
      const res = await postJson(`${strict.url}${p}`, b);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ reason: 'invalid_request', fields: [{ path: 'explain' }] });
    }
  });
});
