import type { CedarValue } from '../cedar/types.js';
import type { IssuerConfig } from '../config/index.js';
import { claimList, claimValue, mapClaims } from './claims.js';
import type { Caller } from './types.js';
import type { VerifiedToken } from './verify-token.js';

/** Is this a client-credentials token? Cognito's shape: an access token whose `sub` is its `client_id`, with no username. */
function isServiceToken(claims: Record<string, unknown>): boolean {
  const clientId = claims.client_id;
  const hasUser = claims.username !== undefined || claims['cognito:username'] !== undefined;
  return typeof clientId === 'string' && claims.sub === clientId && !hasUser && claims.token_use !== 'id';
}

export function isAccessToken(claims: Record<string, unknown>): boolean {
  return claims.token_use === 'access' || (claims.token_use === undefined && claims.client_id !== undefined);
}

/** The first matching rule's caller type, else `service` for client credentials, else the issuer's user type. */
export function classify(config: IssuerConfig, claims: Record<string, unknown>): string {
  for (const rule of config.callerTypeRules) {
    const value = claimValue(claims, rule.claim);
    if (rule.exists !== undefined && (value !== undefined) !== rule.exists) continue;
    if (rule.equals !== undefined) {
      const matches = Array.isArray(value) ? value.includes(rule.equals) : value === rule.equals;
      if (!matches) continue;
    }
    return rule.callerType;
  }
  return isServiceToken(claims) ? 'service' : config.userCallerType;
}

/**
 * Verified claims → the Cedar principal, following AVP's identity-source mapping so policies move
 * to AVP unchanged: a user is `<user type>::"<prefix>|<sub>"` with its groups as parents
 * `<group type>::"<prefix>|<group>"` and mapped claims as attributes; a service is
 * `<service type>::"<client id>"` with its `scopes`; access-token claims go to `context.<key>`.
 */
export function toCaller({ issuer, claims }: VerifiedToken): Caller {
  const { config, prefix } = issuer;
  const type = classify(config, claims);
  const protectedTypes = [config.entityTypes.user, config.entityTypes.group, config.entityTypes.service];
  const context: Record<string, CedarValue> = {};
  // The access-token claims key belongs to the sidecar for every token of this issuer: an ID token
  // must not be able to bring its own `context.token.scope` either.
  const tokenContext = Object.keys(config.accessTokenContext.claims).length > 0;
  if (tokenContext && isAccessToken(claims)) {
    context[config.accessTokenContext.key] = mapClaims(claims, config.accessTokenContext.claims);
  }
  const base = {
    type,
    issuer: config.name,
    protectedTypes,
    protectedContextKeys: tokenContext ? [config.accessTokenContext.key] : [],
    context,
    claims,
    ...(claims.exp ? { expiresAt: claims.exp } : {}),
  };

  if (type === 'service') {
    const clientId = String(claims.client_id ?? claims.sub);
    const scopes = claimList(claims.scope ?? claims.scp);
    return {
      ...base,
      principal: { uid: { type: config.entityTypes.service, id: clientId }, attrs: { scopes }, parents: [] },
    };
  }
  const sub = String(claims.sub);
  const id = config.principalIdFormat === 'prefixed' ? `${prefix}|${sub}` : sub;
  const parents = claimList(claimValue(claims, config.groupsClaim)).map((group) => ({
    type: config.entityTypes.group,
    id: config.groupIdFormat === 'prefixed' ? `${prefix}|${group}` : group,
  }));
  const attrs = mapClaims(claims, config.attributes);
  // Mapped claims the token lacks (or carries in a form the mapping cannot convert): if the
  // store's schema requires one, the decision is a DENY naming the claim, not a 400 blaming the
  // request (see the pipeline).
  const missingClaims = Object.entries(config.attributes)
    .map(([claim, target]) => ({ claim, attribute: typeof target === 'string' ? target : target.attribute }))
    .filter(({ attribute }) => !Object.hasOwn(attrs, attribute));
  return {
    ...base,
    principal: { uid: { type: config.entityTypes.user, id }, attrs, parents },
    ...(missingClaims.length ? { missingClaims } : {}),
  };
}

/** Cognito issuers end in the user pool id (`https://cognito-idp.<region>.amazonaws.com/<poolId>`); AVP prefixes ids with it. */
export function defaultPrefix(config: IssuerConfig): string {
  if (config.principalIdPrefix) return config.principalIdPrefix;
  const last = config.issuer.replace(/\/+$/, '').split('/').at(-1) ?? '';
  return /^[\w-]+_[A-Za-z0-9]+$/.test(last) ? last : config.issuer;
}
