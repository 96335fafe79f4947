import { describe, expect, it } from 'vitest';
import type { Entity, EntityUid } from '../cedar/types.js';
import { canonical, planCalls, type PlanItem } from './avp-batch.js';

const u = (id: string): EntityUid => ({ type: 'User', id });
const d = (id: string): EntityUid => ({ type: 'Doc', id });
const ent = (uid: EntityUid, attrs: Entity['attrs'] = {}, parents: EntityUid[] = []): Entity => ({
  uid,
  attrs,
  parents,
});
const item = (p: string, r: string, entities: Entity[] = [], extra: Partial<PlanItem> = {}): PlanItem => ({
  principal: u(p),
  resource: d(r),
  context: {},
  entities,
  ...extra,
});
const opts = { maxBatch: 30, minBatchSize: 2 };
const sizes = (plans: { items: number[] }[]) => plans.map((p) => p.items.length).sort((a, b) => b - a);

describe('planning AVP calls', () => {
  it('one request is one single call', () => {
    expect(planCalls([item('a', '1')], opts)).toEqual([{ items: [0], fixed: 'none' }]);
  });

  it('groups by principal, splits at 30 and keeps the original indexes', () => {
    const items = Array.from({ length: 65 }, (_, i) => item('alice', `doc-${i}`, [ent(u('alice'))]));
    const plans = planCalls(items, opts);
    expect(sizes(plans)).toEqual([30, 30, 5]);
    expect(plans.every((p) => p.fixed === 'principal')).toBe(true);
    expect(plans.flatMap((p) => p.items).sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
  });

  it('groups by resource when that makes fewer calls', () => {
    const items = ['a', 'b', 'c', 'd'].map((p) => item(p, 'shared'));
    const plans = planCalls(items, opts);
    expect(plans).toEqual([{ items: [0, 1, 2, 3], fixed: 'resource' }]);
  });

  it('mixes: principal groups, then resource groups among the leftovers, then singles', () => {
    const items = [item('a', '1'), item('a', '2'), item('b', '3'), item('c', '3'), item('d', '4')];
    const plans = planCalls(items, opts);
    expect(plans).toEqual(
      expect.arrayContaining([
        { items: [0, 1], fixed: 'principal' },
        { items: [2, 3], fixed: 'resource' },
        { items: [4], fixed: 'none' },
      ]),
    );
    expect(plans).toHaveLength(3);
  });

  it('never lets a request see an entity it did not bring (it would change its decision)', () => {
    const doc = ent(d('9'), { owner: 'alice' }, [{ type: 'Folder', id: 'f' }]);
    const items = [item('alice', '9', []), item('alice', '9', [doc]), item('alice', '9', [])];
    const plans = planCalls(items, opts);
    // The two without doc 9 can share a call; the one with it goes alone.
    expect(sizes(plans)).toEqual([2, 1]);
    const withDoc = plans.find((p) => p.items.includes(1))!;
    expect(withDoc.items).toEqual([1]);
  });

  it('follows parents and entity-valued attributes when checking what a request reaches', () => {
    const folder = ent({ type: 'Folder', id: 'f' }, {}, [{ type: 'Team', id: 't' }]);
    const docA = ent(d('a'), {}, [folder.uid]);
    // Request 0 brings doc a (whose parent folder it does not bring); request 1 brings the folder.
    const plans = planCalls([item('x', 'a', [docA]), item('x', 'b', [folder])], opts);
    expect(sizes(plans)).toEqual([1, 1]);
    // Entity reference in the context: the same rule.
    const withRef = item('x', 'c', [], { context: { about: { __entity: { type: 'Folder', id: 'f' } } } });
    expect(sizes(planCalls([withRef, item('x', 'd', [folder])], opts))).toEqual([1, 1]);
  });

  it('shares identical entities freely, and shared (static) entities never split', () => {
    const alice = ent(u('alice'), { tenant: 'acme' }, [{ type: 'Group', id: 'g' }]);
    const group = ent({ type: 'Group', id: 'g' });
    const items = ['1', '2', '3'].map((r) => item('alice', r, [alice, ent(d(r))]));
    expect(sizes(planCalls(items, { ...opts, shared: [group] }))).toEqual([3]);
  });

  it('splits two requests that define the same entity differently', () => {
    const a1 = ent(u('alice'), { tenant: 'acme' });
    const a2 = ent(u('alice'), { tenant: 'globex' });
    expect(sizes(planCalls([item('alice', '1', [a1]), item('alice', '2', [a2])], opts))).toEqual([1, 1]);
    // Key order does not make entities differ.
    expect(canonical({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonical({ a: [{ x: 1, y: 2 }], b: 1 }));
  });

  it('partitions (tokens) never mix and make batches of their own', () => {
    const items = [
      item('alice', '1', [], { partition: 'identityToken:t1' }),
      item('alice', '2', [], { partition: 'identityToken:t1' }),
      item('alice', '3', [], { partition: 'identityToken:t2' }),
      item('alice', '4'),
    ];
    const plans = planCalls(items, opts);
    expect(plans).toEqual(
      expect.arrayContaining([
        { items: [0, 1], fixed: 'partition' },
        { items: [2], fixed: 'none' },
        { items: [3], fixed: 'none' },
      ]),
    );
  });

  it('minBatchSize sends smaller groups as single calls (AVP bills a batch call like 30 single ones)', () => {
    const items = Array.from({ length: 40 }, (_, i) => item('alice', `doc-${i}`));
    expect(sizes(planCalls(items, { maxBatch: 30, minBatchSize: 30 }))).toEqual([30, ...Array(10).fill(1)]);
  });
});
