import { describe, expect, it } from 'vitest';
import { ourVerdict, wasmVerdict, type RequestCase } from '../fuzz/oracle.js';
import { ents } from './test-cases.js';

function same(c: RequestCase, expectOk?: boolean) {
  const w = wasmVerdict(c);
  const o = ourVerdict(c);
  const detail = `wasm: ${w.ok ? 'accepted' : w.message}\nours: ${o.ok ? 'accepted' : o.message}`;
  expect(o.ok, detail).toBe(w.ok);
  if (expectOk !== undefined) expect(w.ok, detail).toBe(expectOk);
  return o;
}

const U = (id: string) => ({ type: 'App::User', id });
const T = (id: string) => ({ type: 'App::Team', id });
const O = (id: string) => ({ type: 'App::Org', id });
const A = (id: string) => ({ type: 'App::Action', id });
const user = (attrs: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  uid: U('u'),
  attrs: { name: 'n', ...attrs },
  parents: [],
  ...extra,
});

describe('entity conformance against cedar-wasm', () => {
  const cases: [string, unknown[], boolean][] = [
    ['empty', [], true],
    ['minimal user', [user({})], true],
    ['missing required attribute', [{ uid: U('u'), attrs: {}, parents: [] }], false],
    ['extra attribute', [user({ zz: 1 })], false],
    ['wrong type', [user({ age: 'x' })], false],
    [
      'every optional type',
      [
        user({
          age: 1,
          admin: true,
          ip: '::1',
          limit: '1.5',
          since: '2020-01-01T00:00:00Z',
          ttl: '1h',
          manager: U('m'),
          friends: [U('a'), { __entity: U('b') }],
          tagsList: ['a', 'a'],
          addr: { street: 's', zip: 1 },
          color: { type: 'App::Color', id: 'red' },
          nested: [[1], [2, 3], []],
        }),
      ],
      true,
    ],
    ['nested set wrong', [user({ nested: [[1], ['x']] })], false],
    ['record missing in attribute', [user({ addr: { zip: 1 } })], false],
    ['record extra in attribute', [user({ addr: { street: 's', nope: 1 } })], false],
    ['entity ref wrong type', [user({ manager: T('t') })], false],
    ['entity ref as string', [user({ manager: 'App::User::"m"' })], false],
    ['enum attribute bad id', [user({ color: { type: 'App::Color', id: 'blue' } })], false],
    ['ip string bad', [user({ ip: '300.0.0.1' })], false],
    ['decimal as __extn', [user({ limit: { __extn: { fn: 'decimal', arg: '2.25' } } })], true],
    ['decimal given an ip call', [user({ limit: { __extn: { fn: 'ip', arg: '1.1.1.1' } } })], false],
    ['null attribute', [user({ age: null })], false],
    ['float attribute', [user({ age: 1.5 })], false],
    ['parent allowed', [user({}, { parents: [T('t')] })], true],
    ['parent allowed transitively', [user({}, { parents: [O('o')] })], true],
    ['parent not allowed', [{ uid: T('t'), attrs: { name: 'x' }, parents: [U('u')] }], false],
    ['parent of undeclared type', [user({}, { parents: [{ type: 'Zed', id: 'z' }] })], false],
    ['parent is an action', [user({}, { parents: [A('view')] })], false],
    ['unknown entity type', [{ uid: { type: 'Zed', id: 'z' }, attrs: {}, parents: [] }], false],
    ['enum entity declared', [{ uid: { type: 'App::Color', id: 'red' }, attrs: {}, parents: [] }], true],
    [
      'enum entity undeclared id',
      [{ uid: { type: 'App::Color', id: 'blue' }, attrs: {}, parents: [] }],
      false,
    ],
    [
      'enum entity with attrs',
      [{ uid: { type: 'App::Color', id: 'red' }, attrs: { a: 1 }, parents: [] }],
      false,
    ],
    ['tags ok', [user({}, { tags: { a: 'x', b: 'y' } })], true],
    ['tag wrong type', [user({}, { tags: { a: 1 } })], false],
    [
      'tags of set type',
      [
        {
          uid: { type: 'App::Doc', id: 'd' },
          attrs: { owner: U('u'), level: 1 },
          parents: [],
          tags: { a: [1, 2] },
        },
      ],
      true,
    ],
    [
      'tags of set type wrong',
      [
        {
          uid: { type: 'App::Doc', id: 'd' },
          attrs: { owner: U('u'), level: 1 },
          parents: [],
          tags: { a: 1 },
        },
      ],
      false,
    ],
    ['tags on a type without tags', [{ uid: O('o'), attrs: {}, parents: [], tags: { a: 'x' } }], false],
    ['empty tags on a type without tags', [{ uid: O('o'), attrs: {}, parents: [], tags: {} }], true],
    ['duplicate equal', [user({ age: 1 }), user({ age: 1 })], true],
    [
      'duplicate equal, parents reordered',
      [user({}, { parents: [T('a'), T('b')] }), user({}, { parents: [T('b'), T('a')] })],
      true,
    ],
    ['duplicate different', [user({ age: 1 }), user({ age: 2 })], false],
    [
      'action entity naming only its direct group',
      [{ uid: A('view'), attrs: {}, parents: [A('write')] }],
      false,
    ],
    [
      'action entity listing all groups',
      [{ uid: A('view'), attrs: {}, parents: [A('write'), A('read')] }],
      true,
    ],
    ['action entity missing a group', [{ uid: A('view'), attrs: {}, parents: [] }], false],
    [
      'action entity with its group chain in the data',
      [
        { uid: A('view'), attrs: {}, parents: [A('write')] },
        { uid: A('write'), attrs: {}, parents: [A('read')] },
      ],
      true,
    ],
    ['action entity with a wrong group', [{ uid: A('read'), attrs: {}, parents: [A('write')] }], false],
    ['action entity with attributes', [{ uid: A('read'), attrs: { a: 1 }, parents: [] }], false],
    ['undeclared action entity', [{ uid: A('nope'), attrs: {}, parents: [] }], false],
    ['action entity with a non-action parent', [{ uid: A('read'), attrs: {}, parents: [U('u')] }], false],
    ['action of another namespace', [{ uid: { type: 'Action', id: 'top' }, attrs: {}, parents: [] }], true],
    ['uid with __entity', [{ uid: { __entity: U('u') }, attrs: { name: 'n' }, parents: [] }], true],
    ['uid as string', [{ uid: 'App::User::"u"', attrs: {}, parents: [] }], false],
    ['no parents key', [{ uid: U('u'), attrs: { name: 'n' } }], false],
    ['no attrs key', [{ uid: O('o'), parents: [] }], false],
    [
      'cycle of teams (type may not contain itself)',
      [
        { uid: T('a'), attrs: { name: 'x' }, parents: [T('b')] },
        { uid: T('b'), attrs: { name: 'x' }, parents: [T('a')] },
      ],
      false,
    ],
    ['not an entity object', [5], false],
  ];
  for (const [name, list, ok] of cases) it(name, () => void same(ents(list), ok));

  it('cycles where the schema allows self-membership', () => {
    const schema = `entity G in [G]; action a appliesTo { principal: G, resource: G };`;
    const base = {
      schema,
      principal: { type: 'G', id: 'a' },
      action: { type: 'Action', id: 'a' },
      resource: { type: 'G', id: 'a' },
      context: {},
    };
    const G = (id: string, ...parents: string[]) => ({
      uid: { type: 'G', id },
      attrs: {},
      parents: parents.map((p) => ({ type: 'G', id: p })),
    });
    same({ ...base, entities: [G('a', 'b'), G('b')] }, true);
    same({ ...base, entities: [G('a', 'b'), G('b', 'a')] });
    same({ ...base, entities: [G('a', 'a')] });
    same({ ...base, entities: [G('a', 'b'), G('b', 'c'), G('c', 'a')] });
  });

  it('entities are checked even when the request is not validated', () => {
    same(ents([user({ age: 'x' })], { validateRequest: false }), false);
  });

  it('returns EntityData with parsed values and schema actions', () => {
    const o = ourVerdict(
      ents([user({ age: 9007199254740993n, limit: '1.5' }, { parents: [T('t')], tags: { k: 'v' } })]),
    );
    expect(o.ok).toBe(true);
    if (!o.ok) return;
    const u = o.entities.find((e) => e.uid.key === 'App::User::"u"')!;
    expect(u.attrs.get('age')).toBe(9007199254740993n);
    expect(u.parents.map((p) => p.key)).toEqual(['App::Team::"t"']);
    expect(u.tags?.get('k')).toBe('v');
    const view = o.entities.find((e) => e.uid.key === 'App::Action::"view"')!;
    expect(view.parents.map((p) => p.key).sort()).toEqual(['App::Action::"read"', 'App::Action::"write"']);
  });

  it('error messages name the entity and attribute', () => {
    const o = ourVerdict(ents([user({ addr: { street: 1 } })]));
    expect(!o.ok && o.message).toBe(
      'entity `App::User::"u"`: attribute `addr.street`: expected string, got long 1',
    );
  });
});

describe('assertAcyclic over request and static entities', () => {
  it('finds a cycle closed through a static entity', async () => {
    const { assertAcyclic } = await import('./entities.js');
    const { EntityRef } = await import('../values.js');
    const g = (id: string, ...ps: string[]) => ({
      uid: new EntityRef('G', id),
      attrs: new Map(),
      parents: ps.map((p) => new EntityRef('G', p)),
    });
    const statics = new Map([['G::"s"', g('s', 'x')]]);
    const lookup = (mine: ReturnType<typeof g>[]) => ({
      get: (k: string) => mine.find((e) => e.uid.key === k) ?? statics.get(k),
    });
    const ok = [g('x')];
    expect(() => assertAcyclic(ok, lookup(ok))).not.toThrow();
    const bad = [g('x', 's')];
    expect(() => assertAcyclic(bad, lookup(bad))).toThrow(/cycle/);
  });
});
