/**
 * EntityStore and per-request views: the hierarchy seen through a view must equal cedar-wasm's with
 * the static and request entities passed as one list.
 */
import './v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import { EntityStore } from './entities.js';
import { parseEntitiesJson } from './json-value.js';
import { EntityRef } from './values.js';

type EJ = {
  uid: { type: string; id: string };
  attrs: Record<string, unknown>;
  parents: { type: string; id: string }[];
};
const E = (
  type: string,
  id: string,
  parents: [string, string][] = [],
  attrs: Record<string, unknown> = {},
): EJ => ({
  uid: { type, id },
  attrs,
  parents: parents.map(([t, i]) => ({ type: t, id: i })),
});
const ref = (t: string, i: string) => new EntityRef(t, i);

/** cedar-wasm's answer to `child in ancestor` with all entities in one list. */
function cedarIn(entities: EJ[], child: EntityRef, anc: EntityRef): boolean | string {
  const r = cedar.isAuthorized({
    principal: { type: child.type, id: child.id },
    action: { type: 'Action', id: 'a' },
    resource: { type: anc.type, id: anc.id },
    context: {},
    policies: { staticPolicies: 'permit(principal, action, resource) when { principal in resource };' },
    entities: entities as cedar.Entities,
  });
  if (r.type !== 'success') return r.errors.map((e) => e.message).join('; ');
  return r.response.decision === 'allow';
}

const STATIC = [
  E('User', 'alice', [['Group', 'g1']]),
  E('Group', 'g1', [['Group', 'g2']]),
  E('Group', 'g2', [['Org', 'o']]),
  E('User', 'carol', [['Team', 'dangling']]),
  E('Action', 'view', [['Action', 'read']]),
  E('Action', 'read'),
];
const KEYS = [
  ['User', 'alice'],
  ['User', 'carol'],
  ['User', 'dave'],
  ['Group', 'g1'],
  ['Group', 'g2'],
  ['Org', 'o'],
  ['Team', 'dangling'],
  ['Team', 't2'],
  ['Action', 'view'],
  ['Action', 'read'],
] as const;

function agree(requestEntities: EJ[], actions: EJ[] = []): void {
  const store = new EntityStore(
    parseEntitiesJson(STATIC.filter((e) => e.uid.type !== 'Action')),
    parseEntitiesJson(actions.length ? actions : STATIC.filter((e) => e.uid.type === 'Action')),
  );
  const view = store.view(parseEntitiesJson(requestEntities));
  const all = [...STATIC, ...requestEntities];
  for (const [ct, ci] of KEYS)
    for (const [at, ai] of KEYS) {
      const c = ref(ct, ci);
      const a = ref(at, ai);
      expect(view.isIn(c, a), `${c.key} in ${a.key}`).toBe(cedarIn(all, c, a));
    }
}

describe('EntityStore views', () => {
  it('static hierarchy: transitive, reflexive, dangling parents followed', () => agree([]));
  it('request entities: ancestors through the static hierarchy', () =>
    agree([
      E('User', 'dave', [
        ['Group', 'g1'],
        ['Team', 't2'],
      ]),
      E('Team', 't2', [['Org', 'o']]),
    ]));
  it('a request entity that a static entity names as parent widens static ancestors', () =>
    agree([E('Team', 'dangling', [['Org', 'o']])]));
  it('cycles are rejected, as cedar-wasm does, also when request entities close them', () => {
    const cyc = [E('A', 'x', [['A', 'y']]), E('A', 'y', [['A', 'z']]), E('A', 'z', [['A', 'x']])];
    expect(() => new EntityStore(parseEntitiesJson(cyc))).toThrow(/cycle/);
    expect(cedarIn(cyc, ref('A', 'x'), ref('A', 'z'))).toMatch(/cycle/);
    expect(() => new EntityStore(parseEntitiesJson([E('A', 'x', [['A', 'x']])]))).toThrow(/cycle/);
    expect(cedarIn([E('A', 'x', [['A', 'x']])], ref('A', 'x'), ref('A', 'x'))).toMatch(/cycle/);
    const store = new EntityStore(parseEntitiesJson(STATIC));
    // carol → Team::"dangling" (static); the request says dangling → carol.
    const closing = [E('Team', 'dangling', [['User', 'carol']])];
    expect(() => store.view(parseEntitiesJson(closing))).toThrow(/cycle/);
    expect(cedarIn([...STATIC, ...closing], ref('User', 'carol'), ref('Org', 'o'))).toMatch(/cycle/);
    const deep = [
      E('Team', 'dangling', [['Team', 't2']]),
      E('Team', 't2', [['Group', 'g9']]),
      E('Group', 'g9', [['User', 'carol']]),
    ];
    expect(() => store.view(parseEntitiesJson(deep))).toThrow(/cycle/);
    expect(cedarIn([...STATIC, ...deep], ref('User', 'carol'), ref('Org', 'o'))).toMatch(/cycle/);
  });
  it('no request entities: the shared static view (no allocation per request)', () => {
    const store = new EntityStore(parseEntitiesJson(STATIC));
    expect(store.view()).toBe(store.view([]));
  });
  it('duplicates: identical ones accepted, differing ones rejected, as cedar-wasm', () => {
    const store = new EntityStore(parseEntitiesJson(STATIC));
    expect(() => store.view(parseEntitiesJson([E('User', 'alice', [['Group', 'g1']])]))).not.toThrow();
    expect(
      cedarIn([...STATIC, E('User', 'alice', [['Group', 'g1']])], ref('User', 'alice'), ref('Org', 'o')),
    ).toBe(true);
    expect(() => store.view(parseEntitiesJson([E('User', 'alice', [])]))).toThrow(/duplicate entity entry/);
    expect(cedarIn([...STATIC, E('User', 'alice', [])], ref('User', 'alice'), ref('Org', 'o'))).toMatch(
      /duplicate entity entry/,
    );
    expect(() => parseEntitiesJson([E('X', 'a', [], { v: 1 }), E('X', 'a', [], { v: 2 })])).toThrow(
      /duplicate/,
    );
  });
  it('entity data is looked up through the overlay first', () => {
    const store = new EntityStore(parseEntitiesJson(STATIC));
    const v = store.view(parseEntitiesJson([E('User', 'dave', [], { n: 1 })]));
    expect(v.entity(ref('User', 'dave').key)?.attrs.get('n')).toBe(1);
    expect(v.entity(ref('User', 'alice').key)?.uid.key).toBe('User::"alice"');
    expect(store.view().entity(ref('User', 'dave').key)).toBeUndefined();
  });
});
