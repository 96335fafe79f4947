import { describe, expect, it } from 'vitest';
import type { EngineRequest } from '../core/engine.js';
import { canonicalJson, decisionKey } from './key.js';

const base = (): EngineRequest => ({
  principal: { type: 'Payments::User', id: 'alice' },
  action: { type: 'Payments::Action', id: 'InitiatePayment' },
  resource: { type: 'Payments::Account', id: 'acme-ops' },
  context: { destinationCountry: 'DE', amount: { __extn: { fn: 'decimal', arg: '10.00' } } },
  entities: [
    {
      uid: { type: 'Payments::User', id: 'alice' },
      attrs: { tenantId: 'acme', country: 'GB' },
      parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_INITIATOR' }],
    },
    {
      uid: { type: 'Payments::Account', id: 'acme-ops' },
      attrs: { tenantId: 'acme', accountType: 'BUSINESS' },
      parents: [{ type: 'Payments::Tenant', id: 'acme' }],
    },
  ],
});

const key = (r: EngineRequest, store = 'customers', version = 'v1') => decisionKey(store, version, r);

describe('canonicalJson', () => {
  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    expect(canonicalJson([3, 1])).not.toBe(canonicalJson([1, 3]));
  });

  it('leaves out undefined members and escapes strings', () => {
    expect(canonicalJson({ a: undefined, b: 'x"y' })).toBe('{"b":"x\\"y"}');
  });

  it('keeps values that would collide as text apart', () => {
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson({ 'a,b': 1 })).not.toBe(canonicalJson({ a: 1, b: 1 }));
  });
});

describe('decisionKey', () => {
  it('is a 44-byte sha256 that does not depend on entity order or key order', () => {
    const r = base();
    const shuffled: EngineRequest = {
      resource: { id: 'acme-ops', type: 'Payments::Account' },
      entities: [...r.entities].reverse().map((e) => ({ parents: e.parents, attrs: e.attrs, uid: e.uid })),
      context: { amount: { __extn: { arg: '10.00', fn: 'decimal' } }, destinationCountry: 'DE' },
      action: r.action,
      principal: r.principal,
    };
    expect(key(r)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(key(shuffled)).toBe(key(r));
  });

  const changes: [string, (r: EngineRequest) => void][] = [
    ['principal id', (r) => (r.principal = { type: 'Payments::User', id: 'bob' })],
    ['principal type', (r) => (r.principal = { type: 'Payments::Service', id: 'alice' })],
    ['principal attribute', (r) => (r.entities[0]!.attrs.country = 'FR')],
    ['added principal attribute', (r) => (r.entities[0]!.attrs.approvalLimit = 1)],
    ['parent group', (r) => (r.entities[0]!.parents = [{ type: 'Payments::UserGroup', id: 'VIEWER' }])],
    ['extra parent', (r) => r.entities[0]!.parents.push({ type: 'Payments::UserGroup', id: 'VIEWER' })],
    ['action', (r) => (r.action = { type: 'Payments::Action', id: 'ViewAccount' })],
    ['resource', (r) => (r.resource = { type: 'Payments::Account', id: 'acme-personal' })],
    ['resource attribute', (r) => (r.entities[1]!.attrs.accountType = 'PERSONAL')],
    ['context value', (r) => (r.context.destinationCountry = 'FR')],
    ['nested context value', (r) => (r.context.amount = { __extn: { fn: 'decimal', arg: '10.01' } })],
    ['context key added', (r) => (r.context.mfa = true)],
    [
      'extra entity',
      (r) => r.entities.push({ uid: { type: 'Payments::User', id: 'carol' }, attrs: {}, parents: [] }),
    ],
    ['entity tags', (r) => (r.entities[1]!.tags = { a: 'b' })],
  ];
  it.each(changes)('changes with the %s', (_name, change) => {
    const r = base();
    change(r);
    expect(key(r)).not.toBe(key(base()));
  });

  it('covers the token handed to an engine that maps tokens itself', () => {
    const withToken = (value: string): EngineRequest => ({
      ...base(),
      token: { value, use: 'identity', context: {}, entities: [] },
    });
    expect(key(withToken('t1'))).not.toBe(key(base()));
    expect(key(withToken('t1'))).not.toBe(key(withToken('t2')));
    expect(key(withToken('t1'))).toBe(key(withToken('t1')));
  });

  it('changes with the store name and the store version', () => {
    expect(key(base(), 'customers', 'v2')).not.toBe(key(base(), 'customers', 'v1'));
    expect(key(base(), 'internal', 'v1')).not.toBe(key(base(), 'customers', 'v1'));
  });
});
