import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { authorize, authorizeBatch, PAYMENTS_TYPES, TOKEN_CONTEXT } from '../support/authorize.js';
import { makeKey, nowSeconds, sign, type TestKey } from '../support/keys.js';
import { startTestSidecar } from '../support/sidecar.js';

/**
 * Tenant isolation proof. A seeded random world — 50 tenants with their own rules, users in
 * several groups, services, accounts and payments — is written out as policy stores in both
 * isolation styles, and thousands of requests with real signed tokens go through the real
 * sidecar (/v1/authorize and /v1/authorize/batch):
 *
 * - shared: one `shared` store for every tenant's users (tenant attributes, a tenant-isolation
 *   forbid, tenant-specific permits guarded by `principal.tenantId`), and one `shared-services`
 *   store where a service may act for a tenant only through a template link per (service, tenant,
 *   action), and a forbid refuses any resource that is not of the tenant named in
 *   `context.onBehalfOfTenant` (set by the calling application, as in policies/services).
 * - per tenant: one store per tenant (`tenant-<id>`), chosen by `storeFromClaim` from the token's
 *   `custom:tenantId`; each store holds only its tenant's rules plus a forbid on a resource (or a
 *   user) of another tenant. Services carry the tenant in their client-credentials token
 *   (`custom:tenantId`, e.g. one app client per tenant and service, or a pre token generation
 *   trigger for M2M tokens) and are routed the same way; a tenant's store permits the services
 *   that tenant subscribed to.
 *
 * The expected decision of every request comes from an independent oracle: a small JS model of
 * the generated rules (it never reads the Cedar text). Every decision must equal the oracle's, and
 * no request on another tenant's resource is ever allowed.
 */

const SEED = 0x5eed_8;
const TENANTS = 50;
const USERS_PER_TENANT = 4;
const ACCOUNTS_PER_TENANT = 4;
const PAYMENTS_PER_TENANT = 4;
const SERVICES = 8;
const LOGICAL_REQUESTS = 2_400;
const CONCURRENCY = 6;

/** mulberry32: small, seeded, deterministic. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
    subset: <T>(xs: readonly T[], p: number) => xs.filter(() => next() < p),
  };
}

// ---------------------------------------------------------------------------------------------
// The world

type Group = 'VIEWER' | 'INITIATOR' | 'APPROVER' | 'AUDITOR';
const GROUPS: readonly Group[] = ['VIEWER', 'INITIATOR', 'APPROVER', 'AUDITOR'];
/** The group hierarchy (entities.json of every store): INITIATOR and APPROVER are in VIEWER. */
const GROUP_PARENTS: Record<Group, Group[]> = {
  VIEWER: [],
  INITIATOR: ['VIEWER'],
  APPROVER: ['VIEWER'],
  AUDITOR: [],
};

type Action = 'ViewAccount' | 'InitiatePayment' | 'ViewPayment' | 'ApprovePayment' | 'SettlePayment';
const ACCOUNT_ACTIONS: readonly Action[] = ['ViewAccount', 'InitiatePayment'];
const PAYMENT_ACTIONS: readonly Action[] = ['ViewPayment', 'ApprovePayment', 'SettlePayment'];
/** What a service may be allowed to do for a tenant, and the scope its token must carry for it. */
const SERVICE_ACTIONS = {
  ViewAccount: 'accounts/read',
  ViewPayment: 'payments/read',
  SettlePayment: 'payments/settle',
};
type ServiceAction = keyof typeof SERVICE_ACTIONS;
const SCOPES = Object.values(SERVICE_ACTIONS);
/** Above this amount an approval needs MFA, in every tenant. */
const MFA_ABOVE = 50_000;

interface TenantRules {
  id: string;
  /** Initiators may pay from PERSONAL accounts too (else BUSINESS only). */
  personalAccounts: boolean;
  /** Approvers approve up to this amount. */
  approvalCap: number;
  /** Auditors may view accounts (they always view payments). */
  auditorsViewAccounts: boolean;
  /** The services this tenant lets act for it, and what each may do. */
  services: Map<string, Set<ServiceAction>>;
}
interface User {
  sub: string;
  /** The token's custom:tenantId; not always a real tenant (strangers). */
  tenant: string;
  groups: Group[];
}
interface Service {
  id: string;
  scopes: string[];
}
interface Account {
  kind: 'account';
  id: string;
  tenant: string;
  accountType: 'BUSINESS' | 'PERSONAL';
  frozen: boolean;
}
interface Payment {
  kind: 'payment';
  id: string;
  tenant: string;
  account: Account;
  amount: number;
  status: 'APPROVED' | 'PENDING';
}
type Resource = Account | Payment;
type Caller = { kind: 'user'; user: User } | { kind: 'service'; service: Service; tenant: string };
interface LogicalRequest {
  caller: Caller;
  action: Action;
  resource: Resource;
  mfa?: boolean;
}

function makeWorld(seed: number) {
  const r = rng(seed);
  const tenantIds = Array.from({ length: TENANTS }, (_, i) => `t${String(i).padStart(2, '0')}`);
  const services: Service[] = Array.from({ length: SERVICES }, (_, i) => ({
    id: `svc-${i}`,
    scopes: r.subset(SCOPES, 0.6),
  }));
  const tenants = new Map<string, TenantRules>();
  const users: User[] = [];
  const accounts = new Map<string, Account[]>();
  const payments = new Map<string, Payment[]>();
  for (const id of tenantIds) {
    const subscribed = new Map<string, Set<ServiceAction>>();
    for (const s of r.subset(services, 0.35)) {
      const actions = r.subset(Object.keys(SERVICE_ACTIONS) as ServiceAction[], 0.6);
      if (actions.length) subscribed.set(s.id, new Set(actions));
    }
    tenants.set(id, {
      id,
      personalAccounts: r.chance(0.5),
      approvalCap: 1_000 * (1 + r.int(80)),
      auditorsViewAccounts: r.chance(0.5),
      services: subscribed,
    });
    for (let u = 0; u < USERS_PER_TENANT; u++)
      users.push({ sub: `${id}-u${u}`, tenant: id, groups: r.subset(GROUPS, 0.4) });
    const accs: Account[] = Array.from({ length: ACCOUNTS_PER_TENANT }, (_, a) => ({
      kind: 'account',
      id: `${id}-acc${a}`,
      tenant: id,
      accountType: r.chance(0.5) ? 'BUSINESS' : 'PERSONAL',
      frozen: r.chance(0.2),
    }));
    accounts.set(id, accs);
    payments.set(
      id,
      Array.from({ length: PAYMENTS_PER_TENANT }, (_, p) => ({
        kind: 'payment',
        id: `${id}-pay${p}`,
        tenant: id,
        account: r.pick(accs),
        amount: 100 + r.int(100_000),
        status: r.chance(0.6) ? 'APPROVED' : 'PENDING',
      })),
    );
  }
  // Users whose tenant claim names no tenant store: an unknown tenant and path-like values.
  for (const tenant of ['t99', '../t01', 't01/x', 'shared'])
    users.push({ sub: `stranger-${tenant.replace(/\W/g, '_')}`, tenant, groups: [...GROUPS] });
  return { r, tenantIds, tenants, users, services, accounts, payments };
}
type World = ReturnType<typeof makeWorld>;

// ---------------------------------------------------------------------------------------------
// The oracle: what the generated rules decide, in plain JS (it never reads the Cedar text)

function closure(groups: Group[]): Set<Group> {
  const out = new Set<Group>();
  const add = (g: Group) => {
    if (out.has(g)) return;
    out.add(g);
    GROUP_PARENTS[g].forEach(add);
  };
  groups.forEach(add);
  return out;
}

/** The tenant a caller belongs to (a user) or acts for (a service). */
const callerTenant = (c: Caller) => (c.kind === 'user' ? c.user.tenant : c.tenant);

function oracle(w: World, q: LogicalRequest): boolean {
  const { caller, action, resource } = q;
  const tenant = w.tenants.get(callerTenant(caller));
  if (!tenant || resource.tenant !== tenant.id) return false; // isolation, in either style
  if (caller.kind === 'service') {
    const may = tenant.services.get(caller.service.id);
    if (!may?.has(action as ServiceAction)) return false;
    if (!caller.service.scopes.includes(SERVICE_ACTIONS[action as ServiceAction])) return false;
    return action !== 'SettlePayment' || (resource as Payment).status === 'APPROVED';
  }
  const groups = closure(caller.user.groups);
  const direct = new Set(caller.user.groups);
  switch (action) {
    case 'ViewAccount':
      return groups.has('VIEWER') || (direct.has('AUDITOR') && tenant.auditorsViewAccounts);
    case 'ViewPayment':
      return groups.has('VIEWER') || direct.has('AUDITOR');
    case 'InitiatePayment': {
      const acc = resource as Account;
      return (
        direct.has('INITIATOR') && (acc.accountType === 'BUSINESS' || tenant.personalAccounts) && !acc.frozen
      );
    }
    case 'ApprovePayment': {
      const pay = resource as Payment;
      return (
        direct.has('APPROVER') && pay.amount <= tenant.approvalCap && !(pay.amount > MFA_ABOVE && !q.mfa)
      );
    }
    case 'SettlePayment':
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The stores, generated from the same world

const SCHEMA = `namespace Payments {
  entity UserGroup in [UserGroup];
  entity User in [UserGroup] { tenantId: String };
  entity Service { scopes: Set<String> };
  entity Tenant;
  entity Account in [Tenant] { tenantId: String, accountType: String, frozen: Bool };
  entity Payment in [Account] { tenantId: String, amount: Long, status: String };
  type TokenClaims = { scope?: Set<String>, client_id?: String };
  type Ctx = { token?: TokenClaims, mfa?: Bool, onBehalfOfTenant?: String };
  action ViewAccount appliesTo { principal: [User, Service], resource: Account, context: Ctx };
  action InitiatePayment appliesTo { principal: [User, Service], resource: Account, context: Ctx };
  action ViewPayment appliesTo { principal: [User, Service], resource: Payment, context: Ctx };
  action ApprovePayment appliesTo { principal: [User, Service], resource: Payment, context: Ctx };
  action SettlePayment appliesTo { principal: [User, Service], resource: Payment, context: Ctx };
}
`;

const GROUP_ENTITIES = JSON.stringify(
  GROUPS.map((g) => ({
    uid: { type: 'Payments::UserGroup', id: g },
    attrs: {},
    parents: GROUP_PARENTS[g].map((p) => ({ type: 'Payments::UserGroup', id: p })),
  })),
);

const A = (a: Action) => `Payments::Action::"${a}"`;
const G = (g: Group) => `Payments::UserGroup::"${g}"`;

/** Rules every tenant has. `guard` is the tenant condition the shared store needs, empty per tenant. */
function commonUserPolicies(prefix: string): string {
  return `@id("${prefix}viewers-read")
permit (principal in ${G('VIEWER')}, action in [${A('ViewAccount')}, ${A('ViewPayment')}], resource);

@id("${prefix}auditors-read-payments")
permit (principal in ${G('AUDITOR')}, action == ${A('ViewPayment')}, resource);

@id("${prefix}frozen-accounts-pay-nothing")
forbid (principal, action == ${A('InitiatePayment')}, resource)
when { resource has frozen && resource.frozen };

@id("${prefix}large-approval-needs-mfa")
forbid (principal, action == ${A('ApprovePayment')}, resource)
when { resource has amount && resource.amount > ${MFA_ABOVE} && !(context has mfa && context.mfa) };
`;
}

/** One tenant's own rules. In the shared store each carries the tenant guard. */
function tenantUserPolicies(t: TenantRules, shared: boolean): string {
  const id = (name: string) => (shared ? `${t.id}-${name}` : name);
  const guard = shared ? `principal has tenantId && principal.tenantId == "${t.id}"` : 'true';
  const parts = [
    `@id("${id('initiate')}")
permit (principal in ${G('INITIATOR')}, action == ${A('InitiatePayment')}, resource)
when { ${guard}${t.personalAccounts ? '' : ' && resource.accountType == "BUSINESS"'} };`,
    `@id("${id('approve-under-cap')}")
permit (principal in ${G('APPROVER')}, action == ${A('ApprovePayment')}, resource)
when { ${guard} && resource.amount <= ${t.approvalCap} };`,
  ];
  if (t.auditorsViewAccounts)
    parts.push(`@id("${id('auditors-view-accounts')}")
permit (principal in ${G('AUDITOR')}, action == ${A('ViewAccount')}, resource)
when { ${guard} };`);
  return parts.join('\n\n') + '\n';
}

const scopeCondition = (a: ServiceAction) =>
  `principal has scopes && principal.scopes.contains("${SERVICE_ACTIONS[a]}")` +
  (a === 'SettlePayment' ? ' && resource has status && resource.status == "APPROVED"' : '');

function writeStore(dir: string, files: Record<string, string>) {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
}

function writeSharedStores(w: World, root: string) {
  writeStore(path.join(root, 'shared'), {
    'schema.cedarschema': SCHEMA,
    'entities.json': GROUP_ENTITIES,
    'isolation.cedar': `@id("tenant-isolation")
forbid (principal, action, resource)
unless { principal has tenantId && resource has tenantId && principal.tenantId == resource.tenantId };
`,
    'common.cedar': commonUserPolicies(''),
    'tenants.cedar': [...w.tenants.values()].map((t) => tenantUserPolicies(t, true)).join('\n'),
  });
  const templates = (Object.keys(SERVICE_ACTIONS) as ServiceAction[])
    .map(
      (a) => `@id("act-for-tenant-${a}")
permit (principal == ?principal, action == ${A(a)}, resource in ?resource)
when { ${scopeCondition(a)} };`,
    )
    .join('\n\n');
  const links = [...w.tenants.values()].flatMap((t) =>
    [...t.services].flatMap(([svc, actions]) =>
      [...actions].map((a) => ({
        templateId: `act-for-tenant-${a}`,
        newId: `${t.id}-${svc}-${a}`,
        values: {
          '?principal': { type: 'Payments::Service', id: svc },
          '?resource': { type: 'Payments::Tenant', id: t.id },
        },
      })),
    ),
  );
  writeStore(path.join(root, 'shared-services'), {
    'schema.cedarschema': SCHEMA,
    'templates.cedar': `${templates}

@id("acting-tenant-isolation")
forbid (principal, action, resource)
unless { context has onBehalfOfTenant && resource has tenantId && resource.tenantId == context.onBehalfOfTenant };
`,
    'links.json': JSON.stringify(links),
  });
  return links.length;
}

function writeTenantStores(w: World, root: string) {
  for (const t of w.tenants.values()) {
    const services = [...t.services].flatMap(([svc, actions]) =>
      [...actions].map(
        (a) => `@id("${svc}-${a}")
permit (principal == Payments::Service::"${svc}", action == ${A(a)}, resource)
when { ${scopeCondition(a)} };`,
      ),
    );
    writeStore(path.join(root, `tenant-${t.id}`), {
      'schema.cedarschema': SCHEMA,
      'entities.json': GROUP_ENTITIES,
      'isolation.cedar': `@id("only-${t.id}")
forbid (principal, action, resource)
unless {
  resource has tenantId && resource.tenantId == "${t.id}" &&
  (principal is Payments::Service || (principal has tenantId && principal.tenantId == "${t.id}"))
};
`,
      'common.cedar': commonUserPolicies(''),
      'tenant.cedar': tenantUserPolicies(t, false),
      'services.cedar': services.join('\n\n') + '\n',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

function makeRequests(w: World): { caller: Caller; items: LogicalRequest[] }[] {
  const { r } = w;
  const groups: { caller: Caller; items: LogicalRequest[] }[] = [];
  let total = 0;
  while (total < LOGICAL_REQUESTS) {
    let caller: Caller;
    if (r.chance(0.3)) {
      const service = r.pick(w.services);
      // Mostly a tenant the service is subscribed to, sometimes any tenant.
      const subscribed = w.tenantIds.filter((t) => w.tenants.get(t)!.services.has(service.id));
      const tenant = subscribed.length && r.chance(0.75) ? r.pick(subscribed) : r.pick(w.tenantIds);
      caller = { kind: 'service', service, tenant };
    } else caller = { kind: 'user', user: r.pick(w.users) };
    const size = r.chance(0.3) ? 1 : 2 + r.int(29);
    const items: LogicalRequest[] = [];
    for (let i = 0; i < size; i++) {
      const home = w.tenants.has(callerTenant(caller)) ? callerTenant(caller) : r.pick(w.tenantIds);
      const resourceTenant = r.chance(0.65) ? home : r.pick(w.tenantIds);
      const onAccount = r.chance(0.45);
      const resource: Resource = onAccount
        ? r.pick(w.accounts.get(resourceTenant)!)
        : r.pick(w.payments.get(resourceTenant)!);
      const action = r.pick(onAccount ? ACCOUNT_ACTIONS : PAYMENT_ACTIONS);
      const mfa = action === 'ApprovePayment' && r.chance(0.7) ? r.chance(0.5) : undefined;
      items.push({ caller, action, resource, ...(mfa === undefined ? {} : { mfa }) });
    }
    groups.push({ caller, items });
    total += size;
  }
  return groups;
}

const accountEntity = (a: Account) => ({
  uid: { type: 'Payments::Account', id: a.id },
  attrs: { tenantId: a.tenant, accountType: a.accountType, frozen: a.frozen },
  parents: [{ type: 'Payments::Tenant', id: a.tenant }],
});

/** The /v1/authorize item: the resource with its attributes, a payment's account as an entity. */
function wireItem(q: LogicalRequest) {
  const context: Record<string, unknown> = {};
  if (q.mfa !== undefined) context.mfa = q.mfa;
  if (q.caller.kind === 'service') context.onBehalfOfTenant = q.caller.tenant;
  const res = q.resource;
  if (res.kind === 'account') {
    const e = accountEntity(res);
    return {
      action: { type: 'Payments::Action', id: q.action },
      resource: { ...e.uid, attributes: e.attrs, parents: e.parents },
      context,
    };
  }
  return {
    action: { type: 'Payments::Action', id: q.action },
    resource: {
      type: 'Payments::Payment',
      id: res.id,
      attributes: { tenantId: res.tenant, amount: res.amount, status: res.status },
      parents: [{ type: 'Payments::Account', id: res.account.id }],
    },
    context,
    entities: [accountEntity(res.account)],
  };
}

// ---------------------------------------------------------------------------------------------
// Tokens and sidecars

const POOL = 'eu-west-1_Isolation';
const ISS = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;
const WEB_CLIENT = 'web-client';

let key: TestKey;
let root: string;
let world: World;
let shared: Sidecar;
let perTenant: Sidecar;
/** The shared style again on cedar-wasm: the proof holds on both evaluators. */
let sharedWasm: Sidecar;

function issuerConfig(jwksFile: string) {
  return {
    name: 'pool',
    issuer: ISS,
    jwksFile,
    audiences: [WEB_CLIENT, ...world.services.map((s) => s.id)],
    tokenUse: ['id', 'access'],
    algorithms: ['ES256'],
    groupIdFormat: 'name',
    entityTypes: PAYMENTS_TYPES,
    attributes: { 'custom:tenantId': 'tenantId' },
    accessTokenContext: TOKEN_CONTEXT,
  };
}

const tokenCache = new Map<string, Promise<string>>();
/** A Cognito-shaped token: an ID token for a user, a client-credentials access token for a service (with its tenant per tenant). */
function tokenFor(caller: Caller, style: 'shared' | 'per-tenant'): Promise<string> {
  const cacheKey =
    caller.kind === 'user'
      ? `u:${caller.user.sub}`
      : `s:${caller.service.id}:${style === 'shared' ? '' : caller.tenant}`;
  let token = tokenCache.get(cacheKey);
  if (!token) {
    const now = nowSeconds();
    const times = { iat: now, exp: now + 3600 };
    token =
      caller.kind === 'user'
        ? sign(key, {
            iss: ISS,
            sub: caller.user.sub,
            aud: WEB_CLIENT,
            token_use: 'id',
            'cognito:username': caller.user.sub,
            'cognito:groups': caller.user.groups,
            'custom:tenantId': caller.user.tenant,
            ...times,
          })
        : sign(key, {
            iss: ISS,
            sub: caller.service.id,
            client_id: caller.service.id,
            token_use: 'access',
            scope: caller.service.scopes.join(' '),
            ...(style === 'per-tenant' ? { 'custom:tenantId': caller.tenant } : {}),
            ...times,
          });
    tokenCache.set(cacheKey, token);
  }
  return token;
}

beforeAll(async () => {
  world = makeWorld(SEED);
  key = await makeKey('isolation-1', 'ES256');
  root = mkdtempSync(path.join(os.tmpdir(), 'tenant-isolation-'));
  const jwksFile = path.join(root, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  writeSharedStores(world, path.join(root, 'shared-style'));
  writeTenantStores(world, path.join(root, 'per-tenant-style'));
  const tenantRoute = { claim: 'custom:tenantId', template: 'tenant-{value}' };
  const sharedStyle = (evaluator: 'native' | 'wasm') =>
    startTestSidecar({
      policies: { dir: path.join(root, 'shared-style'), watch: false },
      issuers: [issuerConfig(jwksFile)],
      routes: [
        { callerType: 'user', issuer: 'pool', store: 'shared' },
        { callerType: 'service', issuer: 'pool', store: 'shared-services' },
      ],
      evaluator: { default: evaluator },
    });
  [shared, sharedWasm, perTenant] = await Promise.all([
    sharedStyle('native'),
    sharedStyle('wasm'),
    startTestSidecar({
      policies: { dir: path.join(root, 'per-tenant-style'), watch: false },
      issuers: [issuerConfig(jwksFile)],
      routes: [
        { callerType: 'user', issuer: 'pool', storeFromClaim: tenantRoute },
        { callerType: 'service', issuer: 'pool', storeFromClaim: tenantRoute },
      ],
    }),
  ]);
});

afterAll(async () => {
  await shared?.close();
  await sharedWasm?.close();
  await perTenant?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

interface Counts {
  requests: number;
  httpCalls: number;
  allows: number;
  denies: number;
  crossTenantAttempts: number;
  crossTenantAllows: number;
  noStore: number;
  serviceRequests: number;
  serviceAllows: number;
  mismatches: string[];
}

async function run(
  style: 'shared' | 'per-tenant',
  sidecar: Sidecar,
  groups: ReturnType<typeof makeRequests>,
) {
  const c: Counts = {
    requests: 0,
    httpCalls: 0,
    allows: 0,
    denies: 0,
    crossTenantAttempts: 0,
    crossTenantAllows: 0,
    noStore: 0,
    serviceRequests: 0,
    serviceAllows: 0,
    mismatches: [],
  };
  const check = (q: LogicalRequest, d: Record<string, unknown>) => {
    c.requests++;
    const cross = q.resource.tenant !== callerTenant(q.caller);
    if (cross) c.crossTenantAttempts++;
    if (q.caller.kind === 'service') c.serviceRequests++;
    if (q.caller.kind === 'service' && d.decision === 'ALLOW') c.serviceAllows++;
    if (d.decision === 'ALLOW') c.allows++;
    else c.denies++;
    if (cross && d.decision !== 'DENY') c.crossTenantAllows++;
    if (d.reason === 'no_store') c.noStore++;
    const want = oracle(world, q) ? 'ALLOW' : 'DENY';
    const who =
      q.caller.kind === 'user' ? q.caller.user.sub : `${q.caller.service.id} for ${q.caller.tenant}`;
    const known = world.tenants.has(callerTenant(q.caller));
    const wantStore =
      style === 'shared'
        ? q.caller.kind === 'user'
          ? 'shared'
          : 'shared-services'
        : known
          ? `tenant-${callerTenant(q.caller)}`
          : undefined;
    const problems = [
      d.decision !== want && `decision ${String(d.decision)}, oracle ${want}`,
      d.store !== wantStore && `store ${String(d.store)}, expected ${String(wantStore)}`,
      wantStore === undefined && d.reason !== 'no_store' && `reason ${String(d.reason)}, expected no_store`,
      wantStore !== undefined && d.reason !== undefined && `reason ${String(d.reason)}`,
      Array.isArray(d.errors) && d.errors.length > 0 && `evaluation errors ${JSON.stringify(d.errors)}`,
    ].filter(Boolean);
    if (problems.length)
      c.mismatches.push(`${style}: ${who} ${q.action} ${q.resource.id}: ${problems.join('; ')}`);
  };
  const tasks = groups.map(({ caller, items }) => async () => {
    const token = await tokenFor(caller, style);
    c.httpCalls++;
    if (items.length === 1) {
      const res = await authorize(sidecar.url, token, wireItem(items[0]!));
      expect(res.status, res.text).toBe(200);
      check(items[0]!, res.json);
    } else {
      const res = await authorizeBatch(sidecar.url, token, items.map(wireItem));
      expect(res.status, res.text).toBe(200);
      const results = res.json.results as Record<string, unknown>[];
      expect(results).toHaveLength(items.length);
      items.forEach((q, i) => check(q, results[i]!));
    }
  });
  await pool(tasks, CONCURRENCY);
  return c;
}

describe('tenant isolation proof (seeded, 50 tenants, both isolation styles, both evaluators)', () => {
  // About 10 s of requests on an idle machine; the timeout leaves room for a loaded one.
  it(
    'never allows a request on another tenant’s resource, and every decision is the oracle’s',
    { timeout: 180_000 },
    async () => {
      const groups = makeRequests(world);
      const started = Date.now();
      const results = {
        shared: await run('shared', shared, groups),
        'shared (wasm)': await run('shared', sharedWasm, groups),
        'per-tenant': await run('per-tenant', perTenant, groups),
      };
      const ms = Date.now() - started;
      const table = Object.entries(results).map(([style, c]) => ({
        style,
        requests: c.requests,
        httpCalls: c.httpCalls,
        allows: c.allows,
        denies: c.denies,
        crossTenantAttempts: c.crossTenantAttempts,
        crossTenantAllows: c.crossTenantAllows,
        serviceRequests: c.serviceRequests,
        serviceAllows: c.serviceAllows,
        noStore: c.noStore,
        mismatches: c.mismatches.length,
      }));
      console.log(
        `tenant isolation (seed ${SEED.toString(16)}, ${TENANTS} tenants, ${world.users.length} users, ` +
          `${world.services.length} services, ${shared.stores.names().length} shared stores / ` +
          `${perTenant.stores.names().length} tenant stores, ${ms} ms)`,
      );
      console.table(table);
      for (const c of Object.values(results)) {
        expect(c.mismatches.slice(0, 20)).toEqual([]);
        expect(c.crossTenantAllows).toBe(0);
        expect(c.requests).toBe(groups.reduce((n, g) => n + g.items.length, 0));
        // Not a vacuous proof: many allows, many cross-tenant attempts, services in the mix.
        expect(c.allows).toBeGreaterThan(c.requests * 0.15);
        expect(c.crossTenantAttempts).toBeGreaterThan(c.requests * 0.25);
        expect(c.serviceRequests).toBeGreaterThan(c.requests * 0.15);
        expect(c.serviceAllows).toBeGreaterThan(c.serviceRequests * 0.1);
      }
      expect(results['per-tenant'].noStore).toBeGreaterThan(0);
      expect(results.shared.requests + results['per-tenant'].requests).toBeGreaterThanOrEqual(4_000);
    },
  );

  it('the world is what the seed says (deterministic)', () => {
    const again = makeWorld(SEED);
    expect(makeRequests(again).map((g) => g.items.length)).toEqual(
      makeRequests(makeWorld(SEED)).map((g) => g.items.length),
    );
    expect(
      [...again.tenants.values()].map((t) => [t.approvalCap, t.personalAccounts, t.services.size]),
    ).toEqual([...world.tenants.values()].map((t) => [t.approvalCap, t.personalAccounts, t.services.size]));
  });
});
