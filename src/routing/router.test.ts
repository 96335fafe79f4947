import { describe, expect, it } from 'vitest';
import { ConfigSchema, type RouteConfig } from '../config/index.js';
import { createRouter } from './router.js';

const routes = (raw: unknown[]): RouteConfig[] => ConfigSchema.parse({ routes: raw }).routes;

describe('createRouter', () => {
  const router = createRouter(
    routes([
      {
        callerType: 'user',
        issuer: 'pool',
        claim: { name: 'custom:tenantId', equals: 'acme' },
        store: 'acme',
      },
      {
        callerType: 'user',
        issuer: 'pool',
        claim: { name: 'cognito:groups', equals: 'BETA' },
        store: 'beta',
      },
      { callerType: 'user', issuer: 'pool', claim: { name: 'custom:tier', equals: 2 }, store: 'tier-2' },
      { callerType: 'user', issuer: 'pool', store: 'customers' },
      { callerType: 'service', store: 'services' },
      { issuer: 'staff', store: 'internal' },
    ]),
  );

  it('takes the first route whose caller type, issuer and claim all match', () => {
    expect(router.route({ callerType: 'user', issuer: 'pool', claims: { 'custom:tenantId': 'acme' } })).toBe(
      'acme',
    );
    expect(
      router.route({ callerType: 'user', issuer: 'pool', claims: { 'custom:tenantId': 'globex' } }),
    ).toBe('customers');
    expect(router.route({ callerType: 'service', issuer: 'pool', claims: {} })).toBe('services');
    expect(router.route({ callerType: 'service', issuer: 'anything' })).toBe('services');
    expect(router.route({ callerType: 'internal', issuer: 'staff', claims: {} })).toBe('internal');
  });

  it('a claim matches by equality, or by membership for an array claim; types are not coerced', () => {
    const user = (claims: Record<string, unknown>) =>
      router.route({ callerType: 'user', issuer: 'pool', claims });
    expect(user({ 'cognito:groups': ['VIEWER', 'BETA'] })).toBe('beta');
    expect(user({ 'cognito:groups': 'BETA' })).toBe('beta');
    expect(user({ 'cognito:groups': ['BETAX'] })).toBe('customers');
    expect(user({ 'custom:tier': 2 })).toBe('tier-2');
    expect(user({ 'custom:tier': '2' })).toBe('customers');
  });

  it('a claim route never matches a caller without claims (a stated principal)', () => {
    expect(router.route({ callerType: 'user', issuer: 'pool' })).toBe('customers');
    expect(
      createRouter(routes([{ claim: { name: 'x', equals: 'y' }, store: 's' }])).route({ callerType: 'user' }),
    ).toBe(undefined);
  });

  it('no matching route is undefined (the pipeline denies with no_store)', () => {
    expect(router.route({ callerType: 'user', issuer: 'other' })).toBeUndefined();
    expect(router.route({ callerType: 'internal', issuer: 'pool' })).toBeUndefined();
    expect(createRouter([]).route({ callerType: 'user' })).toBeUndefined();
  });

  describe('storeFromClaim (one store per tenant)', () => {
    const perTenant = createRouter(
      routes([
        { callerType: 'user', storeFromClaim: { claim: 'custom:tenantId', template: 'tenant-{value}' } },
        { callerType: 'user', store: 'fallback' },
        { callerType: 'service', store: 'services' },
      ]),
    );
    const tenant = (value: unknown) =>
      perTenant.route({
        callerType: 'user',
        claims: value === undefined ? {} : { 'custom:tenantId': value },
      });

    it('builds the store name from the claim', () => {
      expect(tenant('acme')).toBe('tenant-acme');
      expect(tenant('Globex_2-eu')).toBe('tenant-Globex_2-eu');
      expect(perTenant.route({ callerType: 'service', claims: { 'custom:tenantId': 'acme' } })).toBe(
        'services',
      );
    });

    it('a missing claim or a value that is not a plain name picks no store, and does not fall through', () => {
      for (const bad of [
        undefined,
        '',
        '../customers',
        'a/b',
        'a b',
        'a.b',
        'x'.repeat(65),
        7,
        ['acme'],
        null,
      ])
        expect(tenant(bad), JSON.stringify(bad)).toBeUndefined();
    });
  });
});
