/**
 * Scope constraints, templates and links, and the authorizer's combination rules, against
 * cedar-wasm; plus the unsupported-construct detector.
 */
import { describe, expect, it } from 'vitest';
import { authorize } from './authorize.js';
import { EntityStore } from './entities.js';
import { policyTextToEst } from './exact-literals.js';
import { compilePolicySet } from './policy-set.js';
import { both, type Case } from './test-oracle.js';
import { ENTITIES } from './test-fixture.js';
import { EMPTY_RECORD, EntityRef } from './values.js';

const U = (id: string) => ({ type: 'User', id });
const check = (c: Case) => {
  const r = both({ entities: ENTITIES, ...c });
  expect(r.ours).toEqual(r.cedar);
};

const SCOPES = [
  'permit(principal, action, resource);',
  'permit(principal == User::"alice", action, resource);',
  'permit(principal == User::"bob", action, resource);',
  'permit(principal in Group::"staff", action, resource);',
  'permit(principal in Org::"acme", action, resource);',
  'permit(principal in User::"alice", action, resource);',
  'permit(principal is User, action, resource);',
  'permit(principal is Group, action, resource);',
  'permit(principal is User in Group::"staff", action, resource);',
  'permit(principal is User in Group::"admins", action, resource);',
  'permit(principal, action == Action::"view", resource);',
  'permit(principal, action == Action::"read", resource);',
  'permit(principal, action in Action::"read", resource);',
  'permit(principal, action in [Action::"edit", Action::"read"], resource);',
  'permit(principal, action in [], resource);',
  'permit(principal, action, resource == Photo::"p1");',
  'permit(principal, action, resource in Album::"all");',
  'permit(principal, action, resource is Photo in Album::"trip");',
  'permit(principal, action, resource is Album);',
];

describe('scope constraints', () => {
  for (const p of SCOPES) it(p, () => check({ policies: p }));
  it('unknown principal entity: in only itself', () => {
    check({ policies: SCOPES.slice(0, 6).join('\n'), principal: U('nobody') });
  });
});

describe('templates and links', () => {
  const templates = [
    'permit(principal == ?principal, action, resource);',
    'permit(principal in ?principal, action, resource == ?resource) when { resource.private == false };',
    'forbid(principal is User in ?principal, action, resource in ?resource);',
    'permit(principal, action, resource in ?resource) unless { principal.nope };',
  ].join('\n');
  it('links bind slots; one body, many links', () => {
    check({
      policies: templates,
      links: [
        { templateId: 'template0', newId: 'L0', values: { '?principal': U('alice') } },
        { templateId: 'template0', newId: 'L1', values: { '?principal': U('bob') } },
        {
          templateId: 'template1',
          newId: 'L2',
          values: { '?principal': { type: 'Org', id: 'acme' }, '?resource': { type: 'Photo', id: 'p1' } },
        },
        {
          templateId: 'template1',
          newId: 'L3',
          values: { '?principal': { type: 'Org', id: 'x' }, '?resource': { type: 'Photo', id: 'p1' } },
        },
        { templateId: 'template3', newId: 'L4', values: { '?resource': { type: 'Album', id: 'all' } } },
      ],
    });
  });
  it('a forbid link overrides', () => {
    check({
      policies: templates,
      links: [
        { templateId: 'template0', newId: 'L0', values: { '?principal': U('alice') } },
        {
          templateId: 'template2',
          newId: 'F0',
          values: {
            '?principal': { type: 'Group', id: 'staff' },
            '?resource': { type: 'Album', id: 'trip' },
          },
        },
      ],
    });
  });
  it('shares the compiled body across 10,000 links', () => {
    const t = policyTextToEst('permit(principal == ?principal, action, resource);', true);
    const links = Array.from({ length: 10_000 }, (_, i) => ({
      templateId: 't',
      newId: `l${i}`,
      values: { '?principal': { type: 'User', id: `u${i}` } },
    }));
    const set = compilePolicySet({ templates: { t }, templateLinks: links });
    expect(new Set(set.policies.map((p) => p.test)).size).toBe(1);
    const res = authorize(
      set,
      {
        principal: new EntityRef('User', 'u9999'),
        action: new EntityRef('A', 'a'),
        resource: new EntityRef('R', 'r'),
        context: EMPTY_RECORD,
      },
      new EntityStore([]).view(),
    );
    expect(res).toEqual({ decision: 'allow', reasons: ['l9999'], errors: [] });
  });
});

describe('authorizer', () => {
  it('forbid wins; reasons are the satisfied forbids', () => {
    check({
      policies:
        'permit(principal, action, resource); forbid(principal, action, resource) when { principal.age > 40 }; forbid(principal, action, resource) when { false };',
    });
  });
  it('erroring policies are skipped and listed', () => {
    check({
      policies:
        'permit(principal, action, resource); forbid(principal, action, resource) when { principal.nope }; permit(principal, action, resource) when { 1 };',
    });
  });
  it('no satisfied policy: deny, no reasons', () => {
    check({ policies: 'permit(principal, action, resource) when { false };' });
  });
  it('empty policy set denies', () => {
    check({ policies: '' });
  });
  it('errors in every policy still report each', () => {
    check({
      policies:
        'forbid(principal, action, resource) when { 1 + "a" == 2 }; permit(principal, action, resource) when { principal.getTag("x") };',
    });
  });
});

describe('unsupported-construct detector', () => {
  it('reports unknown EST nodes instead of guessing', () => {
    const est = {
      effect: 'permit',
      principal: { op: 'All' },
      action: { op: 'All' },
      resource: { op: 'All' },
      conditions: [{ kind: 'when', body: { frobnicate: { left: { Value: 1 } } } }],
    };
    const set = compilePolicySet({ staticPolicies: { p: est } });
    expect(set.unsupported).toHaveLength(1);
    expect(set.unsupported[0]!.policyId).toBe('p');
    expect(set.unsupported[0]!.what).toMatch(/frobnicate/);
  });
  it('reports unknown scope operators, Unknown values and lossy long literals', () => {
    const est = {
      effect: 'permit',
      principal: { op: 'like', entity: { type: 'User', id: 'a' } },
      action: { op: 'All' },
      resource: { op: 'All' },
      conditions: [
        { kind: 'when', body: { Unknown: { name: 'x' } } },
        { kind: 'when', body: { '==': { left: { Value: 2 ** 60 }, right: { Value: 1 } } } },
      ],
    };
    const set = compilePolicySet({ staticPolicies: { p: est } });
    expect(set.unsupported.map((u) => u.what).join('\n')).toMatch(/scope[\s\S]*Unknown[\s\S]*2\^53/);
  });
  it('accepts bigint literals (exact) and the cedar-wasm EST of every construct', () => {
    const est = policyTextToEst(
      'permit(principal, action, resource) when { 9223372036854775807 - 9223372036854775806 == 1 };',
    );
    const set = compilePolicySet({ staticPolicies: { p: est } });
    expect(set.unsupported).toEqual([]);
  });
});
