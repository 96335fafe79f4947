import { describe, expect, it } from 'vitest';
import type { CedarValue, Entity } from '../cedar/types.js';
import {
  AvpValueError,
  fromAttributeValue,
  fromEntityItem,
  toAttributeValue,
  toEntityItem,
} from './values.js';

describe('Cedar JSON ↔ AVP AttributeValue', () => {
  const pairs: [string, CedarValue, unknown][] = [
    ['boolean', true, { boolean: true }],
    ['long', -42, { long: -42 }],
    ['string', 'acme', { string: 'acme' }],
    [
      'entity',
      { __entity: { type: 'Payments::User', id: 'alice' } },
      { entityIdentifier: { entityType: 'Payments::User', entityId: 'alice' } },
    ],
    ['decimal', { __extn: { fn: 'decimal', arg: '100000.00' } }, { decimal: '100000.00' }],
    ['ipaddr', { __extn: { fn: 'ip', arg: '10.0.0.0/8' } }, { ipaddr: '10.0.0.0/8' }],
    [
      'datetime',
      { __extn: { fn: 'datetime', arg: '2024-10-15T11:35:00Z' } },
      { datetime: '2024-10-15T11:35:00Z' },
    ],
    ['duration', { __extn: { fn: 'duration', arg: '1h30m' } }, { duration: '1h30m' }],
    ['set', ['a', 1, false], { set: [{ string: 'a' }, { long: 1 }, { boolean: false }] }],
    [
      'record (nested)',
      {
        scope: ['payments/settle'],
        limit: { __extn: { fn: 'decimal', arg: '1.5' } },
        owner: { __entity: { type: 'U', id: 'u' } },
      },
      {
        record: {
          scope: { set: [{ string: 'payments/settle' }] },
          limit: { decimal: '1.5' },
          owner: { entityIdentifier: { entityType: 'U', entityId: 'u' } },
        },
      },
    ],
    ['empty record', {}, { record: {} }],
    ['empty set', [], { set: [] }],
  ];
  for (const [name, cedar, avp] of pairs) {
    it(`${name} translates both ways`, () => {
      expect(toAttributeValue(cedar, 'v')).toEqual(avp);
      expect(fromAttributeValue(avp, 'v')).toEqual(cedar);
    });
  }

  it('`ipaddr` as an extension name is accepted and comes back as Cedar’s `ip`', () => {
    expect(toAttributeValue({ __extn: { fn: 'ipaddr', arg: '::1' } }, 'v')).toEqual({ ipaddr: '::1' });
  });

  it('refuses what Cedar cannot hold, naming the path', () => {
    expect(() => toAttributeValue({ a: [1, 2.5] }, 'context')).toThrow(
      /context\.a\[1\]: Cedar longs are whole numbers/,
    );
    expect(() => toAttributeValue({ a: null }, 'context')).toThrow(/context\.a: Cedar has no null/);
    expect(() => toAttributeValue({ __extn: { fn: 'sqrt', arg: '2' } }, 'x')).toThrow(AvpValueError);
  });

  it('refuses malformed wire values: no member, two members, unknown member, wrong member type', () => {
    expect(() => fromAttributeValue({}, 'c.x')).toThrow(
      /c\.x: an AttributeValue has exactly one member, found none/,
    );
    expect(() => fromAttributeValue({ string: 'a', long: 1 }, 'c.x')).toThrow(/found string, long/);
    expect(() => fromAttributeValue({ float: 1.5 }, 'c.x')).toThrow(/unknown AttributeValue member "float"/);
    expect(() => fromAttributeValue({ long: '7' }, 'c.x')).toThrow(/c\.x\.long: expected a whole number/);
    expect(() => fromAttributeValue({ set: [{ boolean: 'yes' }] }, 'c')).toThrow(/c\.set\[0\]\.boolean/);
    expect(() => fromAttributeValue('plain', 'c')).toThrow(/expected an AttributeValue object/);
  });

  it('entities translate with attributes, parents and tags', () => {
    const entity: Entity = {
      uid: { type: 'Payments::User', id: 'bob' },
      attrs: { tenantId: 'acme', approvalLimit: { __extn: { fn: 'decimal', arg: '50000.00' } } },
      parents: [{ type: 'Payments::UserGroup', id: 'PAYMENT_APPROVER' }],
      tags: { region: 'eu' },
    };
    const item = toEntityItem(entity, 'entities[0]');
    expect(item).toEqual({
      identifier: { entityType: 'Payments::User', entityId: 'bob' },
      attributes: { tenantId: { string: 'acme' }, approvalLimit: { decimal: '50000.00' } },
      parents: [{ entityType: 'Payments::UserGroup', entityId: 'PAYMENT_APPROVER' }],
      tags: { region: { string: 'eu' } },
    });
    expect(fromEntityItem(item, 'e')).toEqual(entity);
    expect(fromEntityItem({ identifier: { entityType: 'T', entityId: 'x' } }, 'e')).toEqual({
      uid: { type: 'T', id: 'x' },
      attrs: {},
      parents: [],
    });
    expect(() => fromEntityItem({ identifier: { entityType: 'T' } }, 'entities.entityList[3]')).toThrow(
      /entities\.entityList\[3\]\.identifier: expected \{ entityType, entityId \}/,
    );
  });
});
