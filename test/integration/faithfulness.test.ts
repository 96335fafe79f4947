import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/server.js';
import { postJson, REPO_ROOT, startTestSidecar } from '../support/sidecar.js';

/**
 * Faithfulness: every request is answered over HTTP by /v1/is-authorized and by cedar-wasm's
 * stateless `isAuthorized` on the same inputs, with the policy set built here from the store files
 * (independently of src/policy). Decision, determining policies and erroring policies must match.
 */

// ---------------------------------------------------------------------------------------------
// The stores, loaded without src/: policySetTextToParts + @id annotations, links.json, schema text,
// entities.json.

interface IndependentStore {
  policies: cedar.PolicySet;
  schema: string;
  entities: cedar.EntityJson[];
  ids: string[];
}

function cedarFilesIn(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .flatMap((e) =>
      e.isDirectory()
        ? cedarFilesIn(dir, path.join(rel, e.name))
        : e.name.endsWith('.cedar')
          ? [path.join(rel, e.name)]
          : [],
    );
}

function loadIndependently(store: string): IndependentStore {
  const dir = path.join(REPO_ROOT, 'policies', store);
  const staticPolicies: Record<string, string> = {};
  const templates: Record<string, string> = {};
  const idOf = (json: cedar.PolicyToJsonAnswer, file: string) => {
    if (json.type !== 'success') throw new Error(`${file}: ${JSON.stringify(json.errors)}`);
    const id = json.json.annotations?.id;
    // The sample stores name every policy; unnamed ones are covered by the loader's unit tests.
    if (!id) throw new Error(`${file}: a policy without @id`);
    if (id in staticPolicies || id in templates) throw new Error(`${file}: duplicate id ${id}`);
    return id;
  };
  for (const file of cedarFilesIn(dir)) {
    const parts = cedar.policySetTextToParts(readFileSync(path.join(dir, file), 'utf8'));
    if (parts.type !== 'success') throw new Error(`${file}: ${JSON.stringify(parts.errors)}`);
    for (const text of parts.policies) staticPolicies[idOf(cedar.policyToJson(text), file)] = text;
    for (const text of parts.policy_templates) templates[idOf(cedar.templateToJson(text), file)] = text;
  }
  const json = <T>(name: string, fallback: T): T =>
    existsSync(path.join(dir, name))
      ? (JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as T)
      : fallback;
  const templateLinks = json<cedar.TemplateLink[]>('links.json', []);
  return {
    policies: { staticPolicies, templates, templateLinks },
    schema: readFileSync(path.join(dir, 'schema.cedarschema'), 'utf8'),
    entities: json<cedar.EntityJson[]>('entities.json', []),
    ids: [...Object.keys(staticPolicies), ...templateLinks.map((l) => l.newId)],
  };
}

// ---------------------------------------------------------------------------------------------
// Requests.

type Uid = { type: string; id: string };
type Entity = { uid: Uid; attrs: Record<string, unknown>; parents: Uid[] };
type Store = 'customers' | 'internal' | 'services';

interface Case {
  name: string;
  store: Store;
  principal: Uid;
  action: Uid;
  resource: Uid;
  context?: Record<string, unknown>;
  entities: Entity[];
  /** What the sample policies should give (checked too, so the set stays what it claims to be). */
  expect: 'ALLOW' | 'DENY' | 'INVALID';
}

const P = (type: string, id: string): Uid => ({ type: `Payments::${type}`, id });
const act = (id: string) => P('Action', id);
const decimal = (arg: string) => ({ __extn: { fn: 'decimal', arg } });
const ip = (arg: string) => ({ __extn: { fn: 'ip', arg } });
const ref = (uid: Uid) => ({ __entity: uid });
const entity = (uid: Uid, attrs: Record<string, unknown> = {}, parents: Uid[] = []): Entity => ({
  uid,
  attrs,
  parents,
});

// customers
const group = (id: string) => P('UserGroup', id);
const cUser = (id: string, tenantId: string, groups: string[], limit?: string) =>
  entity(P('User', id), { tenantId, ...(limit ? { approvalLimit: decimal(limit) } : {}) }, groups.map(group));
const cAccount = (id: string, tenantId: string, accountType: string) =>
  entity(P('Account', id), { tenantId, accountType, country: 'GB' }, [P('Tenant', tenantId)]);
const cPayment = (id: string, amount: string, initiatedBy: string, account = 'acme-ops') =>
  entity(
    P('Payment', id),
    {
      tenantId: 'acme',
      amount: decimal(amount),
      currency: 'EUR',
      destinationCountry: 'DE',
      initiatedBy: ref(P('User', initiatedBy)),
    },
    [P('Account', account)],
  );
const customers: Entity[] = [
  cUser('alice', 'acme', ['PAYMENT_INITIATOR']),
  cUser('bob', 'acme', ['PAYMENT_APPROVER'], '50000.00'),
  cUser('erin', 'acme', ['TREASURER'], '500000.00'),
  cUser('carol', 'acme', []),
  cUser('dan', 'globex', []),
  cUser('mallory', 'globex', ['PAYMENT_INITIATOR']),
  cAccount('acme-ops', 'acme', 'BUSINESS'),
  cAccount('acme-personal', 'acme', 'PERSONAL'),
  cAccount('globex-main', 'globex', 'BUSINESS'),
  cPayment('pay-1', '25000.00', 'alice'),
  cPayment('pay-2', '75000.00', 'alice'),
  cPayment('pay-3', '250000.00', 'alice'),
  cPayment('pay-4', '1000.00', 'bob'),
  cPayment('pay-edge', '100000.00', 'alice'),
  cPayment('pay-over-edge', '100000.0001', 'alice'),
];

// internal
const eGroup = (id: string) => P('EmployeeGroup', id);
const employee = (id: string, level: number, groups: string[]) =>
  entity(P('Employee', id), { department: 'x', level }, groups.map(eGroup));
const iPayment = (id: string, assignedTo?: string) =>
  entity(
    P('Payment', id),
    {
      tenantId: 'globex',
      amount: decimal('9999.99'),
      currency: 'USD',
      destinationCountry: 'US',
      ...(assignedTo ? { assignedTo: ref(P('Employee', assignedTo)) } : {}),
    },
    [P('Account', 'globex-main')],
  );
const internal: Entity[] = [
  employee('olivia', 4, ['OPS_LEADS']),
  employee('ivan', 5, ['INVESTIGATOR']),
  employee('sam', 7, ['ONCALL']),
  employee('junior', 3, ['ONCALL']),
  employee('polly', 8, ['OPS', 'INVESTIGATOR', 'ONCALL']),
  entity(P('Account', 'acme-ops'), { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' }, [
    P('Tenant', 'acme'),
  ]),
  entity(P('Account', 'globex-main'), { tenantId: 'globex', accountType: 'BUSINESS', country: 'US' }, [
    P('Tenant', 'globex'),
  ]),
  iPayment('flagged-1', 'ivan'),
  iPayment('flagged-polly', 'polly'),
  iPayment('unassigned'),
];

// services
const service = (id: string, scopes: string[]) => entity(P('Service', id), { scopes });
const sPayment = (id: string, amount: string, status: string) =>
  entity(
    P('Payment', id),
    { tenantId: 'acme', amount: decimal(amount), currency: 'EUR', destinationCountry: 'DE', status },
    [P('Account', 'acme-ops')],
  );
const services: Entity[] = [
  service('settlement-svc', ['payments/settle']),
  service('reporting-svc', ['payments/read']),
  service('fraud-svc', ['payments/screen']),
  service('statements-svc', ['accounts/read']),
  service('omni-svc', ['payments/settle', 'payments/screen', 'accounts/read']),
  entity(P('Account', 'acme-ops'), { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' }, [
    P('Tenant', 'acme'),
  ]),
  sPayment('pay-approved', '1200.50', 'APPROVED'),
  sPayment('pay-pending', '300.00', 'PENDING'),
  sPayment('pay-huge', '2500000.00', 'APPROVED'),
  sPayment('pay-limit', '1000000.0000', 'APPROVED'),
  sPayment('pay-limit-plus', '1000000.0001', 'APPROVED'),
];

const c = (
  name: string,
  principal: string,
  action: string,
  resource: Uid,
  context: Record<string, unknown>,
  expected: Case['expect'],
  entities = customers,
): Case => ({
  name,
  store: 'customers',
  principal: P('User', principal),
  action: act(action),
  resource,
  context,
  entities,
  expect: expected,
});
const i = (
  name: string,
  principal: string,
  action: string,
  resource: Uid,
  context: Record<string, unknown>,
  expected: Case['expect'],
  entities = internal,
): Case => ({
  name,
  store: 'internal',
  principal: P('Employee', principal),
  action: act(action),
  resource,
  context,
  entities,
  expect: expected,
});
const s = (
  name: string,
  principal: string,
  action: string,
  resource: Uid,
  context: Record<string, unknown>,
  expected: Case['expect'],
  entities = services,
): Case => ({
  name,
  store: 'services',
  principal: P('Service', principal),
  action: act(action),
  resource,
  context,
  entities,
  expect: expected,
});

const acc = (id: string) => P('Account', id);
const pay = (id: string) => P('Payment', id);

const CASES: Case[] = [
  // customers: group hierarchy (transitive), forbid over permit, decimals, template links, context
  c(
    'initiator pays from a business account',
    'alice',
    'InitiatePayment',
    acc('acme-ops'),
    { destinationCountry: 'DE' },
    'ALLOW',
  ),
  c('initiator pays with no context', 'alice', 'InitiatePayment', acc('acme-ops'), {}, 'ALLOW'),
  c(
    'sanctioned destination KP: forbid over permit',
    'alice',
    'InitiatePayment',
    acc('acme-ops'),
    { destinationCountry: 'KP' },
    'DENY',
  ),
  c(
    'sanctioned destination CU: forbid over permit',
    'alice',
    'InitiatePayment',
    acc('acme-ops'),
    { destinationCountry: 'CU', amount: decimal('10.00') },
    'DENY',
  ),
  c('initiator, personal account: no permit', 'alice', 'InitiatePayment', acc('acme-personal'), {}, 'DENY'),
  c('initiator, other tenant: isolation forbid', 'alice', 'InitiatePayment', acc('globex-main'), {}, 'DENY'),
  c(
    'INITIATOR in VIEWER reads an account (ReadOnly group)',
    'alice',
    'ViewAccount',
    acc('acme-personal'),
    { sourceIp: ip('192.0.2.7') },
    'ALLOW',
  ),
  c(
    'TREASURER in INITIATOR in VIEWER reads a payment (two levels)',
    'erin',
    'ViewPayment',
    pay('pay-1'),
    {},
    'ALLOW',
  ),
  c(
    'TREASURER approves a large payment with MFA',
    'erin',
    'ApprovePayment',
    pay('pay-3'),
    { mfa: true },
    'ALLOW',
  ),
  c('large approval without MFA: forbid over permit', 'erin', 'ApprovePayment', pay('pay-3'), {}, 'DENY'),
  c('large approval with mfa false', 'erin', 'ApprovePayment', pay('pay-3'), { mfa: false }, 'DENY'),
  c('exactly 100000.00 needs no MFA (decimal edge)', 'erin', 'ApprovePayment', pay('pay-edge'), {}, 'ALLOW'),
  c('100000.0001 needs MFA (decimal edge)', 'erin', 'ApprovePayment', pay('pay-over-edge'), {}, 'DENY'),
  c('approver within limit', 'bob', 'ApprovePayment', pay('pay-1'), {}, 'ALLOW'),
  c('approver above limit', 'bob', 'ApprovePayment', pay('pay-2'), { mfa: true }, 'DENY'),
  c('no self-approval', 'bob', 'ApprovePayment', pay('pay-4'), {}, 'DENY'),
  c('initiator is no approver (and initiated it)', 'alice', 'ApprovePayment', pay('pay-1'), {}, 'DENY'),
  c(
    'unknown payment: approver errors, isolation denies',
    'bob',
    'ApprovePayment',
    pay('pay-unknown'),
    {},
    'DENY',
  ),
  c(
    'unknown payment: treasurer with MFA still errors',
    'erin',
    'ApprovePayment',
    pay('pay-unknown'),
    { mfa: true },
    'DENY',
  ),
  c(
    'unknown payment: non-approver errors in the forbids',
    'alice',
    'ApprovePayment',
    pay('pay-unknown'),
    {},
    'DENY',
  ),
  c('template link: carol views acme-ops', 'carol', 'ViewAccount', acc('acme-ops'), {}, 'ALLOW'),
  c(
    'template link: carol initiates from acme-ops',
    'carol',
    'InitiatePayment',
    acc('acme-ops'),
    { destinationCountry: 'FR' },
    'ALLOW',
  ),
  c(
    'template link: sanctioned destination still forbidden',
    'carol',
    'InitiatePayment',
    acc('acme-ops'),
    { destinationCountry: 'SY' },
    'DENY',
  ),
  c('template link does not reach acme-personal', 'carol', 'ViewAccount', acc('acme-personal'), {}, 'DENY'),
  c(
    'template link on a tenant covers its accounts',
    'dan',
    'InitiatePayment',
    acc('globex-main'),
    {},
    'ALLOW',
  ),
  c('template link: not for approvals', 'carol', 'ApprovePayment', pay('pay-1'), {}, 'DENY'),
  c('other tenant user: isolation', 'mallory', 'ViewAccount', acc('acme-ops'), {}, 'DENY'),
  c('principal not supplied: isolation (no errors)', 'nobody', 'ViewAccount', acc('acme-ops'), {}, 'DENY'),
  c('invalid: unknown context key', 'alice', 'ViewAccount', acc('acme-ops'), { admin: true }, 'INVALID'),
  c('invalid: context of the wrong type', 'alice', 'ViewAccount', acc('acme-ops'), { mfa: 'yes' }, 'INVALID'),
  c('invalid: entity attribute of the wrong type', 'alice', 'ViewAccount', acc('acme-ops'), {}, 'INVALID', [
    ...customers.filter((e) => e.uid.id !== 'alice'),
    entity(P('User', 'alice'), { tenantId: 7 }, [group('VIEWER')]),
  ]),

  // internal: ip ranges, action groups, has on a missing entity, several determining policies
  i(
    'OPS_LEADS in OPS reads from 10/8',
    'olivia',
    'ViewAccount',
    acc('globex-main'),
    { sourceIp: ip('10.20.30.40') },
    'ALLOW',
  ),
  i(
    'ops read from outside 10/8',
    'olivia',
    'ViewAccount',
    acc('acme-ops'),
    { sourceIp: ip('203.0.113.9') },
    'DENY',
  ),
  i(
    'ops read from an IPv6 address',
    'olivia',
    'ViewAccount',
    acc('acme-ops'),
    { sourceIp: ip('::1') },
    'DENY',
  ),
  i(
    'ops read from 10.255.255.255 (range edge)',
    'olivia',
    'ViewPayment',
    pay('flagged-1'),
    { sourceIp: ip('10.255.255.255') },
    'ALLOW',
  ),
  i('ops read without a source ip', 'olivia', 'ViewAccount', acc('acme-ops'), {}, 'DENY'),
  i(
    'Mutating group: update forbidden',
    'olivia',
    'UpdateAccount',
    acc('acme-ops'),
    { sourceIp: ip('10.0.0.1') },
    'DENY',
  ),
  i(
    'Mutating group: approve forbidden',
    'polly',
    'ApprovePayment',
    pay('flagged-polly'),
    { ticket: 'T', sourceIp: ip('10.0.0.1') },
    'DENY',
  ),
  i(
    'investigator reads the assigned payment',
    'ivan',
    'ViewPayment',
    pay('flagged-1'),
    { ticket: 'INC-1' },
    'ALLOW',
  ),
  i('investigator without a ticket', 'ivan', 'ViewPayment', pay('flagged-1'), {}, 'DENY'),
  i(
    'investigator, payment assigned to someone else',
    'ivan',
    'ViewPayment',
    pay('flagged-polly'),
    { ticket: 'T' },
    'DENY',
  ),
  i(
    'investigator, payment with no assignee',
    'ivan',
    'ViewPayment',
    pay('unassigned'),
    { ticket: 'T' },
    'DENY',
  ),
  i('senior on-call reads accounts', 'sam', 'ViewAccount', acc('acme-ops'), {}, 'ALLOW'),
  i('junior on-call does not', 'junior', 'ViewAccount', acc('acme-ops'), {}, 'DENY'),
  i(
    'payment not supplied: ops still read',
    'olivia',
    'ViewPayment',
    pay('not-supplied'),
    { ticket: 'T', sourceIp: ip('10.1.1.1') },
    'ALLOW',
  ),
  i(
    'payment not supplied: investigator does not',
    'ivan',
    'ViewPayment',
    pay('not-supplied'),
    { ticket: 'T' },
    'DENY',
  ),
  i(
    'two permits determine at once (ops + on-call)',
    'polly',
    'ViewAccount',
    acc('acme-ops'),
    { sourceIp: ip('10.9.9.9') },
    'ALLOW',
  ),
  i(
    'two permits determine at once (ops + investigator)',
    'polly',
    'ViewPayment',
    pay('flagged-polly'),
    { ticket: 'T', sourceIp: ip('10.9.9.9') },
    'ALLOW',
  ),
  i('invalid: unknown resource type', 'olivia', 'ViewAccount', P('Vault', 'v1'), {}, 'INVALID'),

  // services: scopes (sets), decimals, forbid over permit, missing entities (errors), context
  s('settlement with the scope', 'settlement-svc', 'SettlePayment', pay('pay-approved'), {}, 'ALLOW'),
  s('settlement without the scope', 'reporting-svc', 'SettlePayment', pay('pay-approved'), {}, 'DENY'),
  s('pending payment is not settled', 'settlement-svc', 'SettlePayment', pay('pay-pending'), {}, 'DENY'),
  s('huge settlement: forbid over permit', 'settlement-svc', 'SettlePayment', pay('pay-huge'), {}, 'DENY'),
  s(
    'exactly 1,000,000.0000 is automatic (decimal edge)',
    'omni-svc',
    'SettlePayment',
    pay('pay-limit'),
    {},
    'ALLOW',
  ),
  s('1,000,000.0001 is not (decimal edge)', 'omni-svc', 'SettlePayment', pay('pay-limit-plus'), {}, 'DENY'),
  s(
    'payment not supplied: both settlement policies error',
    'settlement-svc',
    'SettlePayment',
    pay('pay-missing'),
    {},
    'DENY',
  ),
  s('service not supplied: the permit errors', 'ghost-svc', 'SettlePayment', pay('pay-approved'), {}, 'DENY'),
  s('screening with the scope', 'fraud-svc', 'ScreenPayment', pay('pay-pending'), {}, 'ALLOW'),
  s(
    'screening by a service not supplied: error',
    'ghost-svc',
    'ScreenPayment',
    pay('pay-pending'),
    {},
    'DENY',
  ),
  s(
    'reads for the tenant it acts for',
    'statements-svc',
    'ViewAccount',
    acc('acme-ops'),
    { onBehalfOfTenant: 'acme' },
    'ALLOW',
  ),
  s(
    'not for another tenant',
    'statements-svc',
    'ViewAccount',
    acc('acme-ops'),
    { onBehalfOfTenant: 'globex' },
    'DENY',
  ),
  s('not on behalf of nobody', 'omni-svc', 'ViewAccount', acc('acme-ops'), {}, 'DENY'),
  s(
    'account not supplied: error, DENY',
    'statements-svc',
    'ViewAccount',
    acc('missing'),
    { onBehalfOfTenant: 'acme' },
    'DENY',
  ),
  s(
    'invalid: an entity of a type the store does not declare',
    'settlement-svc',
    'SettlePayment',
    pay('pay-approved'),
    {},
    'INVALID',
    [...services, entity(P('UserGroup', 'VIEWER'))],
  ),
];

// ---------------------------------------------------------------------------------------------

/** One sidecar per evaluator: every case must come out the same on both. */
const sidecars = {} as Record<'native' | 'wasm', Sidecar>;
const stores = {} as Record<Store, IndependentStore>;

beforeAll(async () => {
  for (const evaluator of ['native', 'wasm'] as const)
    sidecars[evaluator] = await startTestSidecar({
      policies: { watch: false },
      evaluator: { default: evaluator },
    });
  for (const store of ['customers', 'internal', 'services'] as const)
    stores[store] = loadIndependently(store);
});
afterAll(async () => {
  await sidecars.native?.close();
  await sidecars.wasm?.close();
});

interface Outcome {
  decision: 'ALLOW' | 'DENY' | 'INVALID';
  determining: string[];
  erroring: string[];
}

function direct(tc: Case): Outcome {
  const store = stores[tc.store];
  const answer = cedar.isAuthorized({
    principal: tc.principal,
    action: tc.action,
    resource: tc.resource,
    context: (tc.context ?? {}) as cedar.Context,
    schema: store.schema,
    validateRequest: true,
    policies: store.policies,
    entities: [...store.entities, ...tc.entities] as cedar.EntityJson[],
  });
  if (answer.type === 'failure') return { decision: 'INVALID', determining: [], erroring: [] };
  const { decision, diagnostics } = answer.response;
  return {
    decision: decision === 'allow' ? 'ALLOW' : 'DENY',
    determining: [...diagnostics.reason].sort(),
    erroring: diagnostics.errors.map((e) => e.policyId).sort(),
  };
}

async function overHttp(tc: Case, sidecar: Sidecar): Promise<Outcome> {
  const res = await postJson(`${sidecar.url}/v1/is-authorized`, {
    store: tc.store,
    principal: tc.principal,
    action: tc.action,
    resource: tc.resource,
    context: tc.context ?? {},
    entities: tc.entities,
  });
  if (res.status === 400 && res.json.reason === 'invalid_request') {
    expect(res.json.decision).toBe('DENY');
    return { decision: 'INVALID', determining: [], erroring: [] };
  }
  expect(res.status).toBe(200);
  expect(res.json.reason).toBeUndefined();
  return {
    decision: res.json.decision as 'ALLOW' | 'DENY',
    determining: (res.json.determiningPolicies as { policyId: string }[]).map((p) => p.policyId).sort(),
    erroring: (res.json.errors as { policyId: string }[]).map((e) => e.policyId).sort(),
  };
}

describe('the independent loader', () => {
  it('finds the policies, templates and links of each sample store', () => {
    expect(stores.customers.ids.sort()).toEqual(
      [
        'approver-within-limit',
        'delegate-carol-acme-ops',
        'delegate-dan-globex',
        'initiator-business-accounts',
        'large-approval-needs-mfa',
        'no-self-approval',
        'sanctioned-destinations',
        'tenant-isolation',
        'viewers-read',
      ].sort(),
    );
    expect(Object.keys(stores.customers.policies.templates ?? {})).toEqual(['delegate-template']);
    expect(stores.internal.ids).toHaveLength(4);
    expect(stores.services.ids).toHaveLength(4);
  });
});

describe('faithfulness: HTTP answers equal cedar-wasm isAuthorized on the store files', () => {
  it('covers what it claims: 40+ requests, ALLOWs, DENYs, errors, invalid ones, every store', () => {
    const outcomes = CASES.map(direct);
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    const count = (d: Outcome['decision']) => outcomes.filter((o) => o.decision === d).length;
    expect(count('ALLOW')).toBeGreaterThanOrEqual(15);
    expect(count('DENY')).toBeGreaterThanOrEqual(15);
    expect(count('INVALID')).toBeGreaterThanOrEqual(3);
    expect(outcomes.filter((o) => o.erroring.length > 0).length).toBeGreaterThanOrEqual(3);
    expect(outcomes.filter((o) => o.determining.length > 1).length).toBeGreaterThanOrEqual(2);
    for (const store of ['customers', 'internal', 'services'] as const)
      expect(CASES.filter((tc) => tc.store === store).length).toBeGreaterThanOrEqual(10);
    expect(new Set(CASES.map((tc) => tc.name)).size).toBe(CASES.length);
  });

  it('serves every store on the evaluator it was asked for', async () => {
    for (const [evaluator, sidecar] of Object.entries(sidecars)) {
      const ready = (await (await fetch(`${sidecar.url}/readyz`)).json()) as {
        stores: { evaluator: string }[];
      };
      expect(ready.stores.map((s) => s.evaluator)).toEqual(ready.stores.map(() => evaluator));
    }
  });

  it.each(
    CASES.flatMap((tc) =>
      (['native', 'wasm'] as const).map((ev) => [`${ev}: ${tc.store}: ${tc.name}`, ev, tc] as const),
    ),
  )('%s', async (_name, evaluator, tc) => {
    const expected = direct(tc);
    expect(expected.decision, 'the sample policies changed: update this case').toBe(tc.expect);
    expect(await overHttp(tc, sidecars[evaluator])).toEqual(expected);
  });
});
