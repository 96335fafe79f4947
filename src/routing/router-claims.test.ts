import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/index.js';
import { createRouter } from './index.js';

const routes = (raw: unknown[]) => ConfigSchema.parse({ routes: raw }).routes;

const perTenant = createRouter(
  routes([
    {
      callerType: 'user',
      issuer: 'pool',
      storeFromClaim: { claim: 'custom:tenantId', template: 'tenant-{value}' },
    },
    { callerType: 'service', issuer: 'pool', store: 'services' },
  ]),
);
const user = (tenant: unknown) => ({
  callerType: 'user',
  issuer: 'pool',
  claims: { sub: 'u1', 'custom:tenantId': tenant },
});

describe('router: storeFromClaim (one store per tenant)', () => {
  it('builds the store name from the claim', () => {
    expect(perTenant.route(user('acme'))).toBe('tenant-acme');
    expect(perTenant.route(user('Globex_2-eu'))).toBe('tenant-Globex_2-eu');
  });

  it.each([
    ['a path upwards', '../x'],
    ['a path down', 'a/b'],
    ['a Windows path', 'a\\b'],
    ['a dot', 'acme.internal'],
    ['the parent folder', '..'],
    ['empty', ''],
    ['spaces', 'ac me'],
    ['a newline', 'acme\n'],
    ['a template marker', '{value}'],
    ['a NUL', 'acme\u0000'],
    ['non-ASCII', 'acmé'],
    ['too long', 'a'.repeat(65)],
  ])('gives no route for a value that is not a plain name: %s', (_what, value) => {
    expect(perTenant.route(user(value))).toBeUndefined();
  });

  it.each([
    ['a number', 42],
    ['a boolean', true],
    ['null', null],
    ['an array', ['acme']],
    ['an object', { id: 'acme' }],
  ])('gives no route for a claim that is not a string: %s', (_what, value) => {
    expect(perTenant.route(user(value))).toBeUndefined();
  });

  it('gives no route for a missing claim, or a caller without claims (AuthZEN subjects)', () => {
    expect(perTenant.route({ callerType: 'user', issuer: 'pool', claims: { sub: 'u1' } })).toBeUndefined();
    expect(perTenant.route({ callerType: 'user' })).toBeUndefined();
  });

  it('does not fall through to a later route when the claim is bad (no route, not another store)', () => {
    const router = createRouter(
      routes([
        { callerType: 'user', storeFromClaim: { claim: 'custom:tenantId', template: 'tenant-{value}' } },
        { callerType: 'user', store: 'customers' },
      ]),
    );
    expect(router.route(user('../customers'))).toBeUndefined();
    expect(router.route(user('acme'))).toBe('tenant-acme');
  });

  it('reads the claim by its exact name (no path syntax) and only from own properties', () => {
    const router = createRouter(
      routes([{ storeFromClaim: { claim: 'toString', template: 'tenant-{value}' } }]),
    );
    expect(router.route({ callerType: 'user', claims: {} })).toBeUndefined();
  });

  it('fills every {value} in the template', () => {
    const router = createRouter(
      routes([{ storeFromClaim: { claim: 'tid', template: '{value}-store-{value}' } }]),
    );
    expect(router.route({ callerType: 'user', claims: { tid: 'acme' } })).toBe('acme-store-acme');
  });

  it('still matches by caller type and issuer first', () => {
    expect(
      perTenant.route({ callerType: 'service', issuer: 'pool', claims: { 'custom:tenantId': 'acme' } }),
    ).toBe('services');
    expect(perTenant.route({ ...user('acme'), issuer: 'other' })).toBeUndefined();
  });

  it('needs a template with {value}, and exactly one of store or storeFromClaim', () => {
    expect(() => routes([{ storeFromClaim: { claim: 'tid', template: 'tenant' } }])).toThrow();
    expect(() =>
      routes([{ store: 'x', storeFromClaim: { claim: 'tid', template: 'tenant-{value}' } }]),
    ).toThrow();
    expect(() => routes([{ callerType: 'user' }])).toThrow();
  });
});
