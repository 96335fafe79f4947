import { decodeJwt } from 'jose';
import { postJson } from './sidecar.js';

/** The sample stores' entity types, as an issuer config maps them. */
export const PAYMENTS_TYPES = {
  user: 'Payments::User',
  group: 'Payments::UserGroup',
  service: 'Payments::Service',
};

/** Access-token claims in `context.token`, as config/dev.yaml maps them. */
export const TOKEN_CONTEXT = {
  key: 'token',
  claims: { scope: { attribute: 'scope', type: 'set' }, client_id: 'client_id' },
};

/** The sample accounts of the customers store (attributes inline, as a caller sends them). */
export const ACCOUNTS = {
  'acme-ops': { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
  'acme-personal': { tenantId: 'acme', accountType: 'PERSONAL', country: 'GB' },
  'globex-main': { tenantId: 'globex', accountType: 'BUSINESS', country: 'US' },
} as const;

export type AccountId = keyof typeof ACCOUNTS;

export function account(id: AccountId) {
  const attributes = ACCOUNTS[id];
  return {
    type: 'Payments::Account',
    id,
    attributes,
    parents: [{ type: 'Payments::Tenant', id: attributes.tenantId }],
  };
}

/** One `/v1/authorize` item: a customer action on a sample account. */
export function onAccount(action: string, id: AccountId, context: Record<string, unknown> = {}) {
  return { action: { type: 'Payments::Action', id: action }, resource: account(id), context };
}

/** One `/v1/authorize` item: a service acting on a payment with the given status. */
export function onPayment(action: string, status: string, amount = '1200.50', id = 'pay-1') {
  return {
    action: { type: 'Payments::Action', id: action },
    resource: {
      type: 'Payments::Payment',
      id,
      attributes: {
        tenantId: 'acme',
        amount: { __extn: { fn: 'decimal', arg: amount } },
        currency: 'EUR',
        destinationCountry: 'DE',
        status,
      },
      parents: [{ type: 'Payments::Account', id: 'acme-ops' }],
    },
  };
}

/** POSTs `/v1/authorize` with the token as a bearer header. */
export function authorize(base: string, token: string | undefined, body: unknown) {
  return postJson(
    `${base}/v1/authorize`,
    body,
    token === undefined ? {} : { authorization: `Bearer ${token}` },
  );
}

export function authorizeBatch(base: string, token: string | undefined, items: unknown[]) {
  return postJson(
    `${base}/v1/authorize/batch`,
    { items },
    token === undefined ? {} : { authorization: `Bearer ${token}` },
  );
}

export function subOf(token: string): string {
  return String(decodeJwt(token).sub);
}

/** The ids of the determining policies in an HTTP decision body. */
export function policyIds(body: Record<string, unknown>): string[] {
  return ((body.determiningPolicies as { policyId: string }[] | undefined) ?? []).map((p) => p.policyId);
}
