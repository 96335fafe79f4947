import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import type { CedarValue } from '../cedar/types.js';
import { claimList, claimValue, mapClaims } from './claims.js';

/** Does Cedar accept this value as an entity attribute (extension values are checked on load)? */
function cedarAccepts(value: CedarValue): boolean {
  const answer = cedar.isAuthorized({
    principal: { type: 'U', id: 'u' },
    action: { type: 'A', id: 'a' },
    resource: { type: 'R', id: 'r' },
    context: {},
    policies: { staticPolicies: 'permit (principal, action, resource);' },
    entities: [
      { uid: { type: 'U', id: 'u' }, attrs: { v: value } as cedar.EntityJson['attrs'], parents: [] },
    ],
  });
  return answer.type === 'success';
}

const one = (value: unknown, type: 'string' | 'long' | 'boolean' | 'decimal' | 'ipaddr' | 'set') =>
  mapClaims({ c: value }, { c: { attribute: 'v', type } }).v;

describe('claimValue', () => {
  it('reads a claim by its exact name, colons included, and never from the prototype', () => {
    const claims = { 'custom:tenantId': 'acme', 'a.b': 1, a: { b: 2 } };
    expect(claimValue(claims, 'custom:tenantId')).toBe('acme');
    expect(claimValue(claims, 'a.b')).toBe(1);
    expect(claimValue({ a: { b: 2 } }, 'a.b')).toBeUndefined();
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
      expect(claimValue({}, name)).toBeUndefined();
  });
});

describe('claimList', () => {
  it('keeps the strings of an array and splits a string on spaces or commas', () => {
    expect(claimList(['a', 1, 'b', null, { c: 1 }])).toEqual(['a', 'b']);
    expect(claimList('payments/settle  payments/read')).toEqual(['payments/settle', 'payments/read']);
    expect(claimList('A,B, C')).toEqual(['A', 'B', 'C']);
    expect(claimList('')).toEqual([]);
    expect(claimList(undefined)).toEqual([]);
    expect(claimList(42)).toEqual([]);
  });
});

describe('mapClaims', () => {
  it('maps claims to attributes; a bare name is a string; absent and null claims are left out', () => {
    const claims = { 'custom:tenantId': 'acme', 'custom:country': null, 'custom:level': '7' };
    const mapped = mapClaims(claims, {
      'custom:tenantId': 'tenantId',
      'custom:country': 'country',
      'custom:missing': 'missing',
      'custom:level': { attribute: 'level', type: 'long' },
    });
    expect(mapped).toEqual({ tenantId: 'acme', level: 7 });
  });

  it('string: scalars become strings, objects and arrays are left out', () => {
    expect(one('acme', 'string')).toBe('acme');
    expect(one(7, 'string')).toBe('7');
    expect(one(true, 'string')).toBe('true');
    expect(one(['a'], 'string')).toBeUndefined();
    expect(one({ a: 1 }, 'string')).toBeUndefined();
  });

  it('long: integers and integer strings within the safe range', () => {
    expect(one('42', 'long')).toBe(42);
    expect(one('-7', 'long')).toBe(-7);
    expect(one(12, 'long')).toBe(12);
    for (const bad of ['4.2', '1e3', ' 1', '0x10', '', 4.5, '9007199254740993', true])
      expect(one(bad, 'long'), String(bad)).toBeUndefined();
  });

  it('boolean: booleans and the strings true/false only', () => {
    expect(one(true, 'boolean')).toBe(true);
    expect(one('false', 'boolean')).toBe(false);
    for (const bad of ['TRUE', 'yes', 1, 0, '']) expect(one(bad, 'boolean'), String(bad)).toBeUndefined();
  });

  it('decimal: Cognito number strings and JSON numbers become Cedar decimals (integers get .0)', () => {
    const dec = (arg: string) => ({ __extn: { fn: 'decimal', arg } });
    expect(one('50000', 'decimal')).toEqual(dec('50000.0'));
    expect(one('50000.00', 'decimal')).toEqual(dec('50000.00'));
    expect(one('-1.5', 'decimal')).toEqual(dec('-1.5'));
    expect(one(1200.5, 'decimal')).toEqual(dec('1200.5'));
    expect(one(75000, 'decimal')).toEqual(dec('75000.0'));
    expect(one('922337203685477.5807', 'decimal')).toEqual(dec('922337203685477.5807'));
  });

  it('decimal: what Cedar would reject is left out instead of failing the whole request', () => {
    for (const bad of [
      '1.23456',
      '1e3',
      '.5',
      '5.',
      '+1.0',
      ' 1.0',
      'abc',
      '',
      '922337203685477.5808',
      1e21,
      1e-7,
    ])
      expect(one(bad, 'decimal'), String(bad)).toBeUndefined();
  });

  it('ipaddr: addresses and ranges Cedar accepts; others are left out', () => {
    for (const ok of ['10.1.2.3', '10.0.0.0/8', '::1', '2001:db8::/32', 'ABCD::1', '::/0'])
      expect(one(ok, 'ipaddr'), ok).toEqual({ __extn: { fn: 'ip', arg: ok } });
    const bad = ['010.0.0.1', '1.2.3', '10.0.0.1/33', '10.0.0.1/08', '10.0.0.1/', '::1/129'];
    for (const b of [...bad, 'fe80::1%eth0', '::ffff:10.0.0.1', ' 10.0.0.1', 'localhost', 42])
      expect(one(b, 'ipaddr'), String(b)).toBeUndefined();
  });

  it('set: a list of strings from an array or a space/comma separated string', () => {
    expect(one('payments/settle payments/read', 'set')).toEqual(['payments/settle', 'payments/read']);
    expect(one(['A', 'B'], 'set')).toEqual(['A', 'B']);
    expect(one(5, 'set')).toEqual([]);
  });

  it('never produces a value Cedar refuses to load', () => {
    const inputs: unknown[] = [
      '0',
      '-0',
      '50000',
      '1.0',
      '1.2345',
      '1.23456',
      '00.5',
      '1e3',
      1,
      1.5,
      2 ** 53,
      -3,
      'x',
      '10.0.0.1',
      '10.0.0.0/8',
      '::1',
      '::ffff:1.2.3.4',
      '1.2.3.4/40',
      'fe80::1%lo',
      '255.255.255.255/32',
    ];
    for (const type of ['decimal', 'ipaddr', 'long', 'string', 'boolean', 'set'] as const)
      for (const input of inputs) {
        const v = one(input, type);
        if (v !== undefined)
          expect(cedarAccepts(v), `${type} ${String(input)} → ${JSON.stringify(v)}`).toBe(true);
      }
  });
});
