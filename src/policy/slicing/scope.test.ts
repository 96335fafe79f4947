import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import { uidKey, type Entity, type EntityUid } from '../../cedar/types.js';
import { EntityGraph } from './entity-graph.js';
import { scopeMatches, scopeOf, type Scope } from './scope.js';

const policyScope = (text: string): Scope => {
  const json = cedar.policyToJson(text);
  if (json.type !== 'success') throw new Error(json.errors.map((e) => e.message).join('; '));
  return scopeOf(json.json);
};
const templateScope = (text: string, values: Record<string, EntityUid>): Scope => {
  const json = cedar.templateToJson(text);
  if (json.type !== 'success') throw new Error(json.errors.map((e) => e.message).join('; '));
  return scopeOf(json.json, values);
};
const u = (type: string, id: string): EntityUid => ({ type, id });
const k = (type: string, id: string) => uidKey(u(type, id));

describe('scopeOf', () => {
  it('reads each operator of the JSON form', () => {
    expect(policyScope('permit(principal, action, resource);')).toEqual({
      principal: { op: 'all' },
      action: { op: 'all' },
      resource: { op: 'all' },
    });
    expect(
      policyScope(
        'permit(principal == U::"a", action == Action::"v", resource in F::"f") when { principal.x == 1 };',
      ),
    ).toEqual({
      principal: { op: 'eq', uid: k('U', 'a') },
      action: { op: 'eq', uid: k('Action', 'v') },
      resource: { op: 'in', uid: k('F', 'f') },
    });
    expect(
      policyScope(
        'forbid(principal is U in G::"g", action in [Action::"a", N::Action::"b"], resource is D);',
      ),
    ).toEqual({
      principal: { op: 'is', type: 'U', in: k('G', 'g') },
      action: { op: 'in', uids: [k('Action', 'a'), k('N::Action', 'b')] },
      resource: { op: 'is', type: 'D' },
    });
    expect(policyScope('permit(principal, action in Action::"g", resource);').action).toEqual({
      op: 'in',
      uids: [k('Action', 'g')],
    });
    expect(policyScope('permit(principal, action in [], resource);').action).toEqual({ op: 'in', uids: [] });
  });

  it('fills template slots from the link values', () => {
    const scope = templateScope('permit(principal == ?principal, action, resource is D in ?resource);', {
      '?principal': u('U', 'a'),
      '?resource': u('F', 'f'),
    });
    expect(scope.principal).toEqual({ op: 'eq', uid: k('U', 'a') });
    expect(scope.resource).toEqual({ op: 'is', type: 'D', in: k('F', 'f') });
  });

  it('treats what it does not understand as unconstrained (wider, never narrower)', () => {
    expect(scopeOf({ principal: { op: 'like' }, action: { op: 'in', entity: 7 }, resource: null })).toEqual({
      principal: { op: 'all' },
      action: { op: 'all' },
      resource: { op: 'all' },
    });
    // A slot without a value: the link is broken (Cedar would refuse it), the scope stays wide.
    expect(templateScope('permit(principal in ?principal, action, resource);', {}).principal).toEqual({
      op: 'all',
    });
  });
});

describe('scopeMatches against Cedar', () => {
  // Cedar is the oracle: permits without conditions are satisfied exactly when their scope matches,
  // so the determining policies of one isAuthorized call are the set of matching scopes.
  const types = ['U', 'G', 'F'];
  const ids = ['a', 'b', 'c'];
  const actions = ['read', 'write', 'readAll', 'admin'];

  function random(seed: number) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('agrees with Cedar on random scopes, hierarchies, missing and duplicate entities', () => {
    const next = random(7);
    const pick = <X>(l: X[]) => l[Math.floor(next() * l.length)]!;
    const ent = () => `${pick(types)}::"${pick(ids)}"`;
    const act = () => `Action::"${pick(actions)}"`;
    const entityScope = (v: 'principal' | 'resource') => {
      const r = next();
      if (r < 0.2) return v;
      if (r < 0.4) return `${v} == ${ent()}`;
      if (r < 0.65) return `${v} in ${ent()}`;
      if (r < 0.8) return `${v} is ${pick(types)}`;
      return `${v} is ${pick(types)} in ${ent()}`;
    };
    const actionScope = () => {
      const r = next();
      if (r < 0.2) return 'action';
      if (r < 0.45) return `action == ${act()}`;
      if (r < 0.7) return `action in ${act()}`;
      const n = Math.floor(next() * 3);
      return `action in [${Array.from({ length: n }, act).join(', ')}]`;
    };
    const policies: Record<string, string> = {};
    for (let i = 0; i < 120; i++)
      policies[`p${i}`] =
        `permit(${entityScope('principal')}, ${actionScope()}, ${entityScope('resource')});`;
    const scopes: Record<string, Scope> = {};
    for (const [id, text] of Object.entries(policies)) scopes[id] = policyScope(text);

    expect(cedar.preparsePolicySet('scope-oracle', { staticPolicies: policies }).type).toBe('success');
    const uidOf = (s: string) => {
      const [type, id] = s.split('::');
      return u(type!, JSON.parse(id!) as string);
    };
    let compared = 0;
    for (let round = 0; round < 300; round++) {
      // A random hierarchy over the universe, given partly as store entities, partly in the request.
      // Parents come later in a shuffled order of the universe, so that it has no cycle (Cedar
      // rejects cycles: a request error, whichever policies are evaluated).
      const statics: Entity[] = [];
      const requestEntities: Entity[] = [];
      const order = (list: EntityUid[]) =>
        list
          .map((x) => ({ x, r: next() }))
          .sort((a, b) => a.r - b.r)
          .map((y) => y.x);
      const universe = order(types.flatMap((type) => ids.map((id) => u(type, id))));
      const actionUniverse = order(actions.map((id) => u('Action', id)));
      for (const list of [universe, actionUniverse])
        list.forEach((uid, i) => {
          if (next() < 0.25) return; // missing entity
          const later = list.slice(i + 1);
          const parents = later.length
            ? Array.from({ length: Math.floor(next() * 3) }, () => later[Math.floor(next() * later.length)]!)
            : [];
          const e: Entity = { uid, attrs: {}, parents };
          (next() < 0.5 ? statics : requestEntities).push(e);
        });
      if (requestEntities.length && next() < 0.2)
        requestEntities.push(JSON.parse(JSON.stringify(requestEntities[0])) as Entity); // identical duplicate
      const request = {
        principal: uidOf(ent()),
        action: uidOf(act()),
        resource: uidOf(ent()),
        context: {},
        entities: requestEntities,
      };
      const answer = cedar.statefulIsAuthorized({
        principal: request.principal,
        action: request.action,
        resource: request.resource,
        context: {},
        entities: [...statics, ...requestEntities] as cedar.Entities,
        preparsedPolicySetId: 'scope-oracle',
      });
      // A cyclic hierarchy is a request error (the same whichever policies are evaluated).
      if (answer.type !== 'success') {
        expect(answer.errors.map((e) => e.message).join('; ')).toMatch(/cycle/);
        continue;
      }
      compared++;
      const cedarSays = [...answer.response.diagnostics.reason].sort();

      const view = new EntityGraph(statics, new Map()).view(request)!;
      const weSay = Object.keys(scopes)
        .filter((id) => scopeMatches(scopes[id]!, view.principal, view.action, view.resource))
        .sort();
      expect(weSay, JSON.stringify({ request, statics })).toEqual(cedarSays);
    }
    expect(compared).toBeGreaterThan(250);
  });
});
