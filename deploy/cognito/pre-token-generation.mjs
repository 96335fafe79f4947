// Amazon Cognito pre token generation trigger (event version V2_0): adds role and tenant claims
// to ID and access tokens from a role source, so access tokens carry what policies need.
//
// Deploy as a Lambda (Node.js 20, handler `pre-token-generation.handler`) and attach it to the
// user pool's "Pre token generation" trigger with event version V2_0 (V2 is required to change
// access tokens). The role source here is a JSON document in the ROLE_SOURCE environment
// variable: {"<username or sub>": {"tenantId": "...", "roles": ["PAYMENT_INITIATOR", ...]}}.
// Replace `loadRoles` with a database read (DynamoDB, RDS) for a real deployment; keep it fast,
// Cognito gives the trigger 5 seconds.

/** @typedef {{ tenantId?: string, roles?: string[] }} RoleRecord */

/**
 * Looks up a user's tenant and roles. The default reads ROLE_SOURCE once per container.
 * @param {{ username: string, sub?: string }} who
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<RoleRecord | undefined>}
 */
export async function loadRoles(who, env = process.env) {
  const source = JSON.parse(env.ROLE_SOURCE ?? '{}');
  return source[who.username] ?? (who.sub ? source[who.sub] : undefined);
}

/**
 * Builds the V2 response: tenant and roles as claims on both tokens, roles also as Cognito groups
 * (so `cognito:groups` carries them and the sidecar maps them to group parents, as AVP does).
 * Attributes already on the user win over nothing: a missing role record changes nothing.
 *
 * @param {any} event Cognito's PreTokenGeneration V2 event
 * @param {{ loadRoles?: typeof loadRoles, env?: NodeJS.ProcessEnv }} [deps]
 */
export async function handler(event, deps = {}) {
  if (event?.version !== '2' && event?.version !== '3') {
    // V1 events cannot change access tokens: fail loudly rather than issue thin tokens silently.
    throw new Error(`expected a V2_0 pre token generation event, got version ${event?.version}`);
  }
  const attributes = event.request?.userAttributes ?? {};
  const record = await (deps.loadRoles ?? loadRoles)(
    { username: event.userName, sub: attributes.sub },
    deps.env ?? process.env,
  );
  if (!record) return event;

  const tenantId = record.tenantId ?? attributes['custom:tenantId'];
  const roles = [
    ...new Set([...(event.request?.groupConfiguration?.groupsToOverride ?? []), ...(record.roles ?? [])]),
  ];
  const claims = {
    ...(tenantId ? { 'custom:tenantId': tenantId } : {}),
    ...(roles.length ? { 'custom:roles': roles.join(' ') } : {}),
  };
  event.response = {
    claimsAndScopeOverrideDetails: {
      idTokenGeneration: { claimsToAddOrOverride: claims },
      accessTokenGeneration: { claimsToAddOrOverride: claims },
      groupOverrideDetails: { groupsToOverride: roles },
    },
  };
  return event;
}
