import { describe, expect, it } from 'vitest';
import { uidKey, type Entity, type EntityUid } from '../../cedar/types.js';
import type { EngineRequest } from '../../core/engine.js';
import { schemaActionParents } from './action-parents.js';
import { EntityGraph } from './entity-graph.js';
import { scopeMatches, type Scope } from './scope.js';
import { SliceIndex, type IndexedPolicy } from './slice-index.js';

const u = (type: string, id: string) => ({ type, id }) satisfies EntityUid;
const k = (type: string, id: string) => uidKey(u(type, id));
const entity = (uid: EntityUid, parents: EntityUid[] = [], attrs: Entity['attrs'] = {}): Entity => ({
  uid,
  attrs,
  parents,
});
const request = (
  principal: EntityUid,
  action: EntityUid,
  resource: EntityUid,
  entities: Entity[] = [],
  context: EngineRequest['context'] = {},
): EngineRequest => ({ principal, action, resource, context, entities });
const all = { op: 'all' } as const;
const policy = (id: string, scope: Partial<Scope>, literals: string[] = []): IndexedPolicy => ({
  id,
  scope: { principal: all, action: all, resource: all, ...scope },
  literals,
});
const ids = (list: IndexedPolicy[]) => list.map((p) => p.id);

describe('EntityGraph.view', () => {
  const statics = [
    entity(u('G', 'admins'), [u('G', 'staff')]),
    entity(u('G', 'staff'), [u('T', 't1')]),
    entity(u('F', 'archive'), [u('F', 'root')]),
  ];
  const graph = new EntityGraph(statics, new Map());

  it('follows parents transitively across request and store entities; `in` is reflexive', () => {
    const view = graph.view(
      request(u('U', 'alice'), u('Action', 'read'), u('D', 'd1'), [
        entity(u('U', 'alice'), [u('G', 'admins')]),
        entity(u('D', 'd1'), [u('F', 'archive')]),
      ]),
    )!;
    expect([...view.principal.within].sort()).toEqual(
      [k('U', 'alice'), k('G', 'admins'), k('G', 'staff'), k('T', 't1')].sort(),
    );
    expect([...view.resource.within].sort()).toEqual(
      [k('D', 'd1'), k('F', 'archive'), k('F', 'root')].sort(),
    );
    expect(view.principal.type).toBe('U');
  });

  it('knows nothing above a missing entity (an `in` against it is false), but still itself', () => {
    const view = graph.view(request(u('U', 'ghost'), u('Action', 'read'), u('D', 'd1')))!;
    expect([...view.principal.within]).toEqual([k('U', 'ghost')]);
  });

  it('unions the parents of duplicate entities (Cedar rejects differing duplicates anyway)', () => {
    const view = graph.view(
      request(u('U', 'alice'), u('Action', 'read'), u('D', 'd1'), [
        entity(u('U', 'alice'), [u('G', 'x')]),
        entity(u('U', 'alice'), [u('G', 'y')]),
      ]),
    )!;
    expect([...view.principal.within].sort()).toEqual([k('U', 'alice'), k('G', 'x'), k('G', 'y')].sort());
  });

  it('reads both uid forms and gives up on anything else', () => {
    const view = graph.view(
      request(u('U', 'alice'), u('Action', 'read'), u('D', 'd1'), [
        { uid: { __entity: u('U', 'alice') }, attrs: {}, parents: [{ __entity: u('G', 'admins') }] },
      ] as unknown as Entity[]),
    )!;
    expect(view.principal.within.has(k('G', 'staff'))).toBe(true);
    expect(
      graph.view(
        request(u('U', 'a'), u('Action', 'r'), u('D', 'd'), [{ uid: 'U::"a"' } as unknown as Entity]),
      ),
    ).toBeUndefined();
  });

  it('takes action groups from the schema, transitively and across namespaces', () => {
    const parents = schemaActionParents(`
      namespace App { action ReadAll; action Read in [ReadAll]; action View in [Read, Other::Action::"Audit"]; }
      namespace Other { action Audit; }
      action Global; action Top in [Global];
    `);
    const g = new EntityGraph([], parents);
    const view = g.view(request(u('U', 'a'), u('App::Action', 'View'), u('D', 'd')))!;
    expect(view.action.within.has(k('App::Action', 'Read'))).toBe(true);
    expect(view.action.within.has(k('App::Action', 'ReadAll'))).toBe(true);
    expect(view.action.within.has(k('Other::Action', 'Audit'))).toBe(true);
    expect(
      g.view(request(u('U', 'a'), u('Action', 'Top'), u('D', 'd')))!.action.within.has(k('Action', 'Global')),
    ).toBe(true);
  });

  it('can be made to slice wrongly, for the differential test', () => {
    const parents = schemaActionParents('action Read; action View in [Read];');
    const req = request(u('U', 'alice'), u('Action', 'View'), u('D', 'd1'), [
      entity(u('U', 'alice'), [u('G', 'admins')]),
    ]);
    const noGroups = new EntityGraph(statics, parents, { ignoreActionGroups: true }).view(req)!;
    expect([...noGroups.action.within]).toEqual([k('Action', 'View')]);
    expect(noGroups.principal.within.has(k('G', 'staff'))).toBe(true);
    const inIsEq = new EntityGraph(statics, parents, { inAsEquals: true }).view(req)!;
    expect([...inIsEq.principal.within]).toEqual([k('U', 'alice')]);
    expect([...inIsEq.action.within]).toEqual([k('Action', 'View')]);
  });
});

describe('EntityGraph.reachableStatics', () => {
  const statics = [
    entity(u('T', 't1'), [], { plan: 'gold' }),
    entity(u('G', 'staff'), [u('T', 't1')]),
    entity(u('G', 'admins'), [u('G', 'staff')]),
    entity(u('O', 'owner'), [], { manager: { __entity: u('O', 'boss') } }),
    entity(u('O', 'boss')),
    entity(u('X', 'flags'), [], { open: true }),
    entity(u('X', 'unrelated')),
  ];
  const graph = new EntityGraph(statics, new Map());
  const keys = (list: Entity[]) => list.map((e) => uidKey(e.uid)).sort();

  it('keeps the parent chains and entity references a decision can reach, and nothing else', () => {
    const req = request(
      u('U', 'alice'),
      u('Action', 'read'),
      u('D', 'd1'),
      [
        entity(u('U', 'alice'), [u('G', 'admins')]),
        entity(u('D', 'd1'), [], { owner: { type: 'O', id: 'owner' } }),
      ],
      { via: [{ __entity: u('T', 't1') }] },
    );
    expect(keys(graph.reachableStatics(req, []))).toEqual(
      [k('G', 'admins'), k('G', 'staff'), k('T', 't1'), k('O', 'owner'), k('O', 'boss')].sort(),
    );
    // Entity literals of the evaluated policies' conditions are reachable too.
    expect(keys(graph.reachableStatics(req, [k('X', 'flags')]))).toContain(k('X', 'flags'));
    expect(keys(graph.reachableStatics(req, [k('X', 'flags')]))).not.toContain(k('X', 'unrelated'));
  });
});

describe('SliceIndex', () => {
  const graph = new EntityGraph(
    [entity(u('G', 'a|members'), [u('T', 'a')]), entity(u('F', 'a|root'), [u('T', 'a')])],
    schemaActionParents('action Read; action Write; action View in [Read]; action Edit in [Write];'),
  );
  const policies = [
    policy('member', {
      principal: { op: 'in', uid: k('G', 'a|members') },
      resource: { op: 'in', uid: k('T', 'a') },
    }),
    policy('owner', { principal: { op: 'eq', uid: k('U', 'alice') } }),
    policy('docs', { resource: { op: 'is', type: 'D' } }),
    policy('docs-in-a', { resource: { op: 'is', type: 'D', in: k('T', 'a') } }),
    policy('readers', { action: { op: 'in', uids: [k('Action', 'Read'), k('Action', 'View')] } }),
    policy('edit', { action: { op: 'eq', uid: k('Action', 'Edit') } }),
    policy('nothing', { action: { op: 'in', uids: [] } }),
    policy('everyone', {}),
    policy('b-tenant', { resource: { op: 'in', uid: k('T', 'b') } }),
  ];
  const index = new SliceIndex(policies);
  const alice = entity(u('U', 'alice'), [u('G', 'a|members')]);
  const doc = entity(u('D', 'd1'), [u('F', 'a|root')]);

  it('selects exactly the matching scopes, in id order, each once', () => {
    const view = graph.view(request(u('U', 'alice'), u('Action', 'View'), u('D', 'd1'), [alice, doc]))!;
    expect(ids(index.select(view))).toEqual(['docs', 'docs-in-a', 'everyone', 'member', 'owner', 'readers']);
    const edit = graph.view(request(u('U', 'bob'), u('Action', 'Edit'), u('F', 'a|root')))!;
    expect(ids(index.select(edit))).toEqual(['edit', 'everyone']);
  });

  it('selects the same as checking every policy, on random requests', () => {
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <X>(l: X[]) => l[Math.floor(next() * l.length)]!;
    const principals = [u('U', 'alice'), u('U', 'bob'), u('G', 'a|members'), u('T', 'a')];
    const actions = ['Read', 'Write', 'View', 'Edit', 'Other'].map((id) => u('Action', id));
    const resources = [u('D', 'd1'), u('F', 'a|root'), u('T', 'a'), u('T', 'b'), u('D', 'd2')];
    for (let i = 0; i < 500; i++) {
      const entities = [alice, doc, entity(u('D', 'd2'), [u('T', 'b')])].filter(() => next() < 0.7);
      const view = graph.view(request(pick(principals), pick(actions), pick(resources), entities))!;
      const brute = policies
        .filter((p) => scopeMatches(p.scope, view.principal, view.action, view.resource))
        .map((p) => p.id)
        .sort();
      expect(ids(index.select(view))).toEqual(brute);
    }
  });
});
