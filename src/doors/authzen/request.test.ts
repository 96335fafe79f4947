import { describe, expect, it } from 'vitest';
import { AuthzenSchema } from '../../config/doors.js';
import { AuthzError } from '../../core/errors.js';
import { expandEvaluations, toDecisionRequest } from './request.js';

const config = AuthzenSchema.parse({
  actionType: 'Payments::Action',
  subjectTypes: {
    user: { entityType: 'Payments::User', groupsProperty: 'groups', groupType: 'Payments::UserGroup' },
    employee: { entityType: 'Payments::Employee', callerType: 'internal' },
    svc: 'Payments::Service',
  },
  resourceTypes: { account: 'Payments::Account' },
});

describe('AuthZEN → DecisionRequest', () => {
  it('maps subject, groups, resource properties and action', () => {
    const r = toDecisionRequest(config, {
      subject: { type: 'user', id: 'dev|alice', properties: { tenantId: 'acme', groups: ['VIEWER'] } },
      action: { name: 'ViewAccount' },
      resource: { type: 'account', id: 'a1', properties: { tenantId: 'acme' } },
      context: { mfa: true },
    });
    expect(r).toEqual({
      subject: {
        kind: 'principal',
        principal: { type: 'Payments::User', id: 'dev|alice' },
        callerType: 'user',
      },
      action: { type: 'Payments::Action', id: 'ViewAccount' },
      resource: { type: 'Payments::Account', id: 'a1' },
      context: { mfa: true },
      entities: [
        {
          uid: { type: 'Payments::User', id: 'dev|alice' },
          attrs: { tenantId: 'acme' },
          parents: [{ type: 'Payments::UserGroup', id: 'VIEWER' }],
        },
        { uid: { type: 'Payments::Account', id: 'a1' }, attrs: { tenantId: 'acme' }, parents: [] },
      ],
    });
  });

  it('passes no entity for a subject or resource without properties (the store may define them)', () => {
    const r = toDecisionRequest(config, {
      subject: { type: 'employee', id: 'e1' },
      action: { name: 'ViewAccount' },
      resource: { type: 'Payments::Payment', id: 'p1' },
    });
    expect(r.entities).toEqual([]);
    expect(r.subject).toEqual({
      kind: 'principal',
      principal: { type: 'Payments::Employee', id: 'e1' },
      callerType: 'internal',
    });
    expect(r.resource).toEqual({ type: 'Payments::Payment', id: 'p1' });
    expect(r.store).toBeUndefined();
  });

  it('uses an unmapped subject type verbatim, as principal type and caller type', () => {
    const r = toDecisionRequest(config, {
      subject: { type: 'robot', id: 'r2' },
      action: { name: 'x' },
      resource: { type: 'account', id: 'a' },
    });
    expect(r.subject).toMatchObject({ principal: { type: 'robot', id: 'r2' }, callerType: 'robot' });
  });

  it('refuses a groups property that is not a list of names', () => {
    expect(() =>
      toDecisionRequest(config, {
        subject: { type: 'user', id: 'u', properties: { groups: 'VIEWER' } },
        action: { name: 'x' },
        resource: { type: 'account', id: 'a' },
      }),
    ).toThrow(AuthzError);
  });

  it('needs a groupType with a groupsProperty', () => {
    expect(
      AuthzenSchema.safeParse({ subjectTypes: { u: { entityType: 'U', groupsProperty: 'g' } } }).success,
    ).toBe(false);
  });
});

describe('evaluations defaults', () => {
  const subject = { type: 'user', id: 'a' };
  const action = { name: 'read' };

  it('fills each item from the top level; the item wins', () => {
    const items = expandEvaluations({
      subject,
      action,
      context: { t: 1 },
      evaluations: [
        { resource: { type: 'doc', id: '1' } },
        { resource: { type: 'doc', id: '2' }, action: { name: 'edit' }, context: { t: 2 } },
      ],
    });
    expect(items).toEqual([
      { ok: true, body: { subject, action, resource: { type: 'doc', id: '1' }, context: { t: 1 } } },
      {
        ok: true,
        body: { subject, action: { name: 'edit' }, resource: { type: 'doc', id: '2' }, context: { t: 2 } },
      },
    ]);
  });

  it('replaces a default whole: an item subject without properties drops the default ones', () => {
    const [item] = expandEvaluations({
      subject: { type: 'user', id: 'bob', properties: { role: 'admin' } },
      action,
      resource: { type: 'doc', id: '1' },
      evaluations: [{ subject: { type: 'user', id: 'alice' } }],
    });
    expect(item).toMatchObject({ ok: true, body: { subject: { type: 'user', id: 'alice' } } });
    expect(item!.ok && item!.body.subject.properties).toBeUndefined();
  });

  it('fails each incomplete or malformed item alone, naming its holes', () => {
    const items = expandEvaluations({
      evaluations: [
        { subject },
        {},
        { subject, action, resource: { type: 'doc', id: '1' } },
        'x',
        { subject: 'a' },
      ],
    });
    expect(items.map((i) => i.ok)).toEqual([false, false, true, false, false]);
    const paths = items.map((i) => (i.ok ? [] : i.error.fields?.map((f) => f.path)));
    expect(paths[0]).toEqual(['evaluations.0.action', 'evaluations.0.resource']);
    expect(paths[1]).toEqual(['evaluations.1.subject', 'evaluations.1.action', 'evaluations.1.resource']);
    expect(paths[4]).toEqual(['evaluations.4.subject']);
  });

  it('throws for a request without items whose top level is incomplete (a 400)', () => {
    expect(() => expandEvaluations({ subject, action })).toThrow(AuthzError);
    expect(() => expandEvaluations({ subject, action, evaluations: [] })).toThrow(/resource/);
  });
});

describe('action properties', () => {
  const body = {
    subject: { type: 'user', id: 'alice' },
    action: { name: 'delete', properties: { soft: true } },
    resource: { type: 'record', id: 'r1' },
  };

  it('are ignored unless actionPropertiesKey is set', () => {
    expect(toDecisionRequest(config, body).context).toEqual({});
  });

  it('become that key of the Cedar context; a context that has the key already is refused', () => {
    const withKey = AuthzenSchema.parse({ actionPropertiesKey: 'action' });
    expect(toDecisionRequest(withKey, { ...body, context: { ip: '10.0.0.1' } }).context).toEqual({
      ip: '10.0.0.1',
      action: { soft: true },
    });
    expect(() => toDecisionRequest(withKey, { ...body, context: { action: 1 } })).toThrow(AuthzError);
  });
});
