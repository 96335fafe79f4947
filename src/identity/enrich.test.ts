import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigSchema } from '../config/index.js';
import { AuthzError } from '../core/errors.js';
import type { DirectoryClient, DirectoryUser, UserDirectory } from './cognito-directory.js';
import { createEnricher, regionOfPool, type LookupOutcome } from './enrich.js';
import { createIdentifier } from './identifier.js';
import type { KeySource } from './key-source.js';
import { defaultPrefix, toCaller } from './to-caller.js';
import type { Caller } from './types.js';
import type { TrustedIssuer, VerifiedToken } from './verify-token.js';
import { createRouter } from '../routing/index.js';

const POOL = 'eu-west-1_Tenants1';
const ISS = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;

function issuer(cognito: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): TrustedIssuer {
  const config = ConfigSchema.parse({
    issuers: [
      {
        name: 'pool',
        issuer: ISS,
        jwksFile: 'unused.json',
        audiences: ['web-client'],
        groupIdFormat: 'name',
        entityTypes: { user: 'Payments::User', group: 'Payments::UserGroup', service: 'Payments::Service' },
        attributes: { 'custom:tenantId': 'tenantId' },
        accessTokenContext: { claims: { scope: { attribute: 'scope', type: 'set' } } },
        cognito: { enrichUsers: true, registeredClients: true, ttlSeconds: 60, ...cognito },
        ...extra,
      },
    ],
  }).issuers[0]!;
  return { config, keys: {} as KeySource, prefix: defaultPrefix(config) };
}

/** A user pool in memory that counts its calls; `down` makes every call throw. */
class FakeDirectory implements UserDirectory {
  users = new Map<string, DirectoryUser>();
  clients = new Map<string, DirectoryClient>();
  calls = { user: 0, client: 0 };
  down = false;
  /** Resolves lookups only when released (to test concurrent requests). */
  gate: Promise<void> | undefined;

  async user(username: string) {
    this.calls.user++;
    await this.gate;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9229');
    const u = this.users.get(username);
    return u && structuredClone(u);
  }
  async client(clientId: string) {
    this.calls.client++;
    await this.gate;
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:9229');
    const c = this.clients.get(clientId);
    return c && structuredClone(c);
  }
}

const SUB = '0f5d3c1e-aaaa-4bbb-8ccc-123456789abc';
const idClaims = (extra: Record<string, unknown> = {}) => ({
  iss: ISS,
  sub: SUB,
  aud: 'web-client',
  token_use: 'id',
  'cognito:username': 'alice',
  'cognito:groups': ['PAYMENT_INITIATOR'],
  'custom:tenantId': 'acme',
  exp: 2_000_000_000,
  ...extra,
});
const accessClaims = (extra: Record<string, unknown> = {}) => ({
  iss: ISS,
  sub: SUB,
  client_id: 'web-client',
  token_use: 'access',
  username: 'alice',
  scope: 'aws.cognito.signin.user.admin',
  exp: 2_000_000_000,
  ...extra,
});
const serviceClaims = (clientId = 'settle-client') => ({
  iss: ISS,
  sub: clientId,
  client_id: clientId,
  token_use: 'access',
  scope: 'payments/settle',
  exp: 2_000_000_000,
});

const callerOf = (t: TrustedIssuer, claims: Record<string, unknown>): Caller =>
  toCaller({ issuer: t, claims: claims as VerifiedToken['claims'] });

async function failure(p: Promise<unknown>): Promise<AuthzError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthzError);
  return err as AuthzError;
}

let dir: FakeDirectory;
let outcomes: string[];
const setup = (cognito: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => {
  const t = issuer(cognito, extra);
  const enricher = createEnricher({
    issuer: t,
    directory: dir,
    ttlSeconds: t.config.cognito!.ttlSeconds,
    maxEntries: t.config.cognito!.maxEntries,
    onLookup: (kind, outcome: LookupOutcome) => outcomes.push(`${kind}:${outcome}`),
  });
  return { t, enricher };
};

beforeEach(() => {
  dir = new FakeDirectory();
  dir.users.set('alice', {
    attributes: { sub: SUB, email: 'alice@example.com', 'custom:tenantId': 'acme' },
    groups: ['PAYMENT_INITIATOR', 'VIEWER'],
    enabled: true,
  });
  dir.clients.set('settle-client', { name: 'settlement', scopes: ['payments/settle'] });
  outcomes = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('enricher: when it looks users up', () => {
  it('never for an ID token that carries every mapped attribute', async () => {
    const { t, enricher } = setup();
    const caller = callerOf(t, idClaims());
    expect(await enricher.enrich(caller)).toBe(caller);
    expect(dir.calls.user).toBe(0);
    expect(outcomes).toEqual([]);
  });

  it('for an access token: the principal becomes the one the ID token maps to', async () => {
    const { t, enricher } = setup();
    const fromId = callerOf(t, idClaims({ 'cognito:groups': ['PAYMENT_INITIATOR', 'VIEWER'] }));
    const enriched = await enricher.enrich(callerOf(t, accessClaims()));
    expect(enriched.principal).toEqual(fromId.principal);
    expect(enriched.principal.uid).toEqual({ type: 'Payments::User', id: `${POOL}|${SUB}` });
    expect(enriched.principal.attrs).toEqual({ tenantId: 'acme' });
    expect(enriched.type).toBe('user');
    // The access token's claims stay in context; the enriched claims are what routing sees.
    expect(enriched.context).toEqual({ token: { scope: ['aws.cognito.signin.user.admin'] } });
    expect(enriched.claims['custom:tenantId']).toBe('acme');
    expect(enriched.claims.token_use).toBe('access');
    expect(enriched.claims.sub).toBe(SUB);
    expect(dir.calls.user).toBe(1);
    expect(outcomes).toEqual(['user:lookup']);
  });

  it('routes an enriched access token to the store its pool attribute names (storeFromClaim)', async () => {
    const { t, enricher } = setup();
    const router = createRouter(
      ConfigSchema.parse({
        routes: [
          { callerType: 'user', storeFromClaim: { claim: 'custom:tenantId', template: 'tenant-{value}' } },
        ],
      }).routes,
    );
    const access = callerOf(t, accessClaims());
    const route = (c: Caller) => router.route({ callerType: c.type, issuer: c.issuer, claims: c.claims });
    expect(route(access)).toBeUndefined();
    expect(route(await enricher.enrich(access))).toBe('tenant-acme');
    expect(route(callerOf(t, idClaims()))).toBe('tenant-acme');
  });

  it('for an ID token that lacks a mapped attribute, and the pool then supplies it', async () => {
    const { t, enricher } = setup();
    const enriched = await enricher.enrich(callerOf(t, idClaims({ 'custom:tenantId': undefined })));
    expect(dir.calls.user).toBe(1);
    expect(enriched.principal.attrs).toEqual({ tenantId: 'acme' });
  });

  it('never when enrichUsers is off (registered clients only)', async () => {
    const { t, enricher } = setup({ enrichUsers: false });
    const caller = callerOf(t, accessClaims());
    expect(await enricher.enrich(caller)).toBe(caller);
    expect(dir.calls.user).toBe(0);
  });

  it('looks the user up by the access token username, else cognito:username, else sub', async () => {
    const { t, enricher } = setup();
    dir.users.set(SUB, dir.users.get('alice')!);
    dir.users.set('alice2', dir.users.get('alice')!);
    const seen: string[] = [];
    const user = dir.user.bind(dir);
    dir.user = async (u) => (seen.push(u), user(u));
    await enricher.enrich(callerOf(t, accessClaims()));
    await enricher.enrich(
      callerOf(t, idClaims({ 'custom:tenantId': undefined, 'cognito:username': 'alice2' })),
    );
    await enricher.enrich(callerOf(t, accessClaims({ username: undefined })));
    expect(seen).toEqual(['alice', 'alice2', SUB]);
  });
});

describe('enricher: the cache', () => {
  it('answers a second request for the user from the cache (a hit, no lookup)', async () => {
    const { t, enricher } = setup();
    await enricher.enrich(callerOf(t, accessClaims()));
    await enricher.enrich(callerOf(t, accessClaims({ jti: 'another token' })));
    expect(dir.calls.user).toBe(1);
    expect(outcomes).toEqual(['user:lookup', 'user:hit']);
  });

  it('looks up again once the TTL has passed, so a removed group is gone within one TTL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { t, enricher } = setup({ ttlSeconds: 30 });
    const groupsOf = async () =>
      (await enricher.enrich(callerOf(t, accessClaims()))).principal.parents.map((p) => p.id);
    expect(await groupsOf()).toEqual(['PAYMENT_INITIATOR', 'VIEWER']);
    dir.users.get('alice')!.groups = ['VIEWER'];
    vi.advanceTimersByTime(29_000);
    expect(await groupsOf()).toEqual(['PAYMENT_INITIATOR', 'VIEWER']);
    vi.advanceTimersByTime(1_001);
    expect(await groupsOf()).toEqual(['VIEWER']);
    expect(dir.calls.user).toBe(2);
    expect(outcomes).toEqual(['user:lookup', 'user:hit', 'user:lookup']);
  });

  it('shares one lookup between concurrent requests for the same user', async () => {
    const { t, enricher } = setup();
    let release!: () => void;
    dir.gate = new Promise((r) => (release = r));
    const all = Promise.all([1, 2, 3, 4, 5].map(() => enricher.enrich(callerOf(t, accessClaims()))));
    release();
    const callers = await all;
    expect(new Set(callers.map((c) => c.principal.attrs.tenantId))).toEqual(new Set(['acme']));
    expect(dir.calls.user).toBe(1);
    expect(outcomes.filter((o) => o === 'user:lookup')).toHaveLength(1);
  });

  it('keeps at most maxEntries users (bounded)', async () => {
    const t = issuer({ maxEntries: 2 });
    const enricher = createEnricher({ issuer: t, directory: dir, ttlSeconds: 60, maxEntries: 2 });
    for (const name of ['u1', 'u2', 'u3']) {
      dir.users.set(name, { attributes: { 'custom:tenantId': 'acme' }, groups: [], enabled: true });
      await enricher.enrich(callerOf(t, accessClaims({ username: name })));
    }
    await enricher.enrich(callerOf(t, accessClaims({ username: 'u1' })));
    expect(dir.calls.user).toBe(4); // u1 was evicted by u3
  });
});

describe('enricher: failures deny, never decide on partial data', () => {
  it('an unknown user is enrichment_failed (and counted as unknown)', async () => {
    const { t, enricher } = setup();
    const err = await failure(enricher.enrich(callerOf(t, accessClaims({ username: 'ghost' }))));
    expect(err.code).toBe('enrichment_failed');
    expect(err.message).toMatch(/not in the user pool/);
    expect(outcomes).toEqual(['user:unknown']);
  });

  it('a disabled user is enrichment_failed (Cognito revokes a disabled user’s tokens)', async () => {
    const { t, enricher } = setup();
    dir.users.get('alice')!.enabled = false;
    const err = await failure(enricher.enrich(callerOf(t, accessClaims())));
    expect(err.code).toBe('enrichment_failed');
    expect(err.message).toMatch(/disabled/);
  });

  it('a directory that cannot be reached is enrichment_failed, is not cached, and recovers', async () => {
    const { t, enricher } = setup();
    dir.down = true;
    const err = await failure(enricher.enrich(callerOf(t, accessClaims())));
    expect(err.code).toBe('enrichment_failed');
    expect(err.message).not.toMatch(/ECONNREFUSED/); // the cause stays out of the caller's message
    expect((err.cause as Error).message).toMatch(/ECONNREFUSED/);
    await failure(enricher.enrich(callerOf(t, accessClaims())));
    dir.down = false;
    const ok = await enricher.enrich(callerOf(t, accessClaims()));
    expect(ok.principal.attrs).toEqual({ tenantId: 'acme' });
    expect(outcomes).toEqual(['user:failure', 'user:failure', 'user:lookup']);
  });

  it('a failure during a lookup that concurrent requests share fails them all', async () => {
    const { t, enricher } = setup();
    dir.down = true;
    let release!: () => void;
    dir.gate = new Promise((r) => (release = r));
    const all = [1, 2, 3].map(() => failure(enricher.enrich(callerOf(t, accessClaims()))));
    release();
    for (const err of await Promise.all(all)) expect(err.code).toBe('enrichment_failed');
    expect(dir.calls.user).toBe(1);
  });
});

describe('enricher: registered clients', () => {
  it('adds the app client name and allowed scopes to the service principal', async () => {
    const { t, enricher } = setup();
    const caller = await enricher.enrich(callerOf(t, serviceClaims()));
    expect(caller.type).toBe('service');
    expect(caller.principal).toEqual({
      uid: { type: 'Payments::Service', id: 'settle-client' },
      attrs: { scopes: ['payments/settle'], clientName: 'settlement', allowedScopes: ['payments/settle'] },
      parents: [],
    });
    await enricher.enrich(callerOf(t, serviceClaims()));
    expect(dir.calls.client).toBe(1);
    expect(outcomes).toEqual(['client:lookup', 'client:hit']);
  });

  it('refuses an unknown client with unknown_client', async () => {
    const { t, enricher } = setup();
    const err = await failure(enricher.enrich(callerOf(t, serviceClaims('never-registered'))));
    expect(err.code).toBe('unknown_client');
    expect(err.status).toBe(401);
    expect(outcomes).toEqual(['client:unknown']);
  });

  it('refuses a deleted client within one TTL, though its token is still valid', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { t, enricher } = setup({ ttlSeconds: 10 });
    await enricher.enrich(callerOf(t, serviceClaims()));
    dir.clients.delete('settle-client');
    vi.advanceTimersByTime(9_000);
    await enricher.enrich(callerOf(t, serviceClaims())); // still cached
    vi.advanceTimersByTime(1_001);
    const err = await failure(enricher.enrich(callerOf(t, serviceClaims())));
    expect(err.code).toBe('unknown_client');
  });

  it('a directory failure for a client is enrichment_failed, not unknown_client', async () => {
    const { t, enricher } = setup();
    dir.down = true;
    const err = await failure(enricher.enrich(callerOf(t, serviceClaims())));
    expect(err.code).toBe('enrichment_failed');
    expect(outcomes).toEqual(['client:failure']);
  });

  it('leaves services alone when registeredClients is off, and never looks a service up as a user', async () => {
    const { t, enricher } = setup({ registeredClients: false });
    const caller = callerOf(t, serviceClaims('never-registered'));
    expect(await enricher.enrich(caller)).toBe(caller);
    expect(dir.calls).toEqual({ user: 0, client: 0 });
  });
});

describe('identifier: lookups are counted through onLookup (the metrics hook)', () => {
  it('passes every lookup outcome of every issuer to IdentifierDeps.onLookup', async () => {
    const t = issuer();
    const counted: string[] = [];
    const identifier = createIdentifier({
      issuers: [t.config],
      baseDir: '/nonexistent',
      maxTokenBytes: 16_384,
      directoryFor: () => dir,
      onLookup: (kind, outcome) => counted.push(`${kind}:${outcome}`),
      // A cache that already holds the verified callers: identify() then runs enrichment only.
      cache: {
        get: (token) =>
          ({
            alice: callerOf(t, accessClaims()),
            ghost: callerOf(t, accessClaims({ username: 'ghost' })),
            svc: callerOf(t, serviceClaims()),
          })[token],
        set: () => {},
      },
    });
    await identifier.identify('alice');
    await identifier.identify('alice');
    await identifier.identify('svc');
    await expect(identifier.identify('ghost')).rejects.toMatchObject({ code: 'enrichment_failed' });
    dir.down = true;
    dir.users.clear();
    await expect(identifier.identify('svc')).resolves.toBeDefined(); // cached client
    expect(counted).toEqual(['user:lookup', 'user:hit', 'client:lookup', 'user:unknown', 'client:hit']);
  });
});

describe('regionOfPool', () => {
  it('reads the region from a pool id', () => {
    expect(regionOfPool('eu-west-1_AbCdEf')).toBe('eu-west-1');
    expect(regionOfPool('us-gov-west-1_X1')).toBe('us-gov-west-1');
    expect(regionOfPool('local_7BZemJvi')).toBeUndefined();
  });
});
