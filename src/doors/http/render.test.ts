import { describe, expect, it } from 'vitest';
import type { Decision } from '../../core/decision.js';
import { decisionBody, decisionJson } from './render.js';

/** What the answer was before the tail was reused: the whole body serialised. */
const plain = (d: Decision, withCaller: boolean) =>
  JSON.stringify(
    withCaller && d.principal
      ? { ...decisionBody(d), principal: d.principal, callerType: d.callerType }
      : decisionBody(d),
  );

describe('decisionJson', () => {
  const policies = ['initiator-business-accounts'];
  const errors: Decision['errors'] = [];
  const hit = (id: string, extra: Partial<Decision> = {}): Decision => ({
    decision: 'ALLOW',
    decisionId: id,
    store: 'customers',
    storeVersion: 'v1',
    determiningPolicies: policies,
    errors,
    cached: true,
    principal: { type: 'Payments::User', id: 'alice' },
    callerType: 'user',
    ...extra,
  });

  it('serialises a cached decision byte for byte as the whole body would be, on every hit', () => {
    for (const withCaller of [true, false])
      for (const id of ['a', 'b', 'c"quoted"'])
        expect(decisionJson(hit(id), withCaller)).toBe(plain(hit(id), withCaller));
  });

  it('never reuses a tail for another caller, store version or decision sharing the same arrays', () => {
    decisionJson(hit('first'), true);
    const bob = hit('x', { principal: { type: 'Payments::User', id: 'bob' } });
    expect(decisionJson(bob, true)).toBe(plain(bob, true));
    const v2 = hit('y', { storeVersion: 'v2' });
    expect(decisionJson(v2, true)).toBe(plain(v2, true));
    const deny = hit('z', { decision: 'DENY' });
    expect(decisionJson(deny, true)).toBe(plain(deny, true));
    const fresh = hit('w', { cached: false });
    expect(decisionJson(fresh, true)).toBe(plain(fresh, true));
  });
});
