import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/sidecar.js';

// The Lambda ships as plain JS in deploy/; import it by URL so it is tested exactly as deployed.
const modulePath = pathToFileURL(path.join(REPO_ROOT, 'deploy/cognito/pre-token-generation.mjs')).href;
const { handler } = (await import(modulePath)) as {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the event is Cognito JSON, checked field by field below
  handler: (event: unknown, deps?: unknown) => Promise<Record<string, any>>;
};

/** Cognito's documented V2_0 pre token generation event (TokenGeneration_Authentication). */
const event = () => ({
  version: '2',
  triggerSource: 'TokenGeneration_Authentication',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_EXAMPLE',
  userName: 'alice',
  callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: '1example23456789' },
  request: {
    userAttributes: {
      sub: 'a36036a8-9ff9-4e46-b4f8-8a3b4c9e1a2f',
      'cognito:user_status': 'CONFIRMED',
      email_verified: 'true',
      email: 'alice@example.com',
    },
    groupConfiguration: { groupsToOverride: ['VIEWER'], iamRolesToOverride: [], preferredRole: null },
    scopes: ['aws.cognito.signin.user.admin', 'openid', 'email'],
  },
  response: { claimsAndScopeOverrideDetails: null },
});

const env = { ROLE_SOURCE: JSON.stringify({ alice: { tenantId: 'acme', roles: ['PAYMENT_INITIATOR'] } }) };

describe('pre token generation trigger (V2_0)', () => {
  it('adds tenant and role claims to both tokens and the roles as groups', async () => {
    const out = await handler(event(), { env });
    const details = out.response.claimsAndScopeOverrideDetails;
    expect(details.idTokenGeneration.claimsToAddOrOverride).toEqual({
      'custom:tenantId': 'acme',
      'custom:roles': 'VIEWER PAYMENT_INITIATOR',
    });
    expect(details.accessTokenGeneration.claimsToAddOrOverride).toEqual(
      details.idTokenGeneration.claimsToAddOrOverride,
    );
    expect(details.groupOverrideDetails.groupsToOverride).toEqual(['VIEWER', 'PAYMENT_INITIATOR']);
  });

  it('finds the record by sub when the username is not in the source', async () => {
    const e = event();
    const bySub = { ROLE_SOURCE: JSON.stringify({ [e.request.userAttributes.sub]: { tenantId: 'globex' } }) };
    const out = await handler(e, { env: bySub });
    expect(out.response.claimsAndScopeOverrideDetails.idTokenGeneration.claimsToAddOrOverride).toEqual({
      'custom:tenantId': 'globex',
      'custom:roles': 'VIEWER',
    });
  });

  it('leaves the event unchanged for a user without a role record', async () => {
    const out = await handler(event(), { env: { ROLE_SOURCE: '{}' } });
    expect(out.response.claimsAndScopeOverrideDetails).toBeNull();
  });

  it('refuses a V1 event, which cannot change access tokens', async () => {
    await expect(handler({ ...event(), version: '1' }, { env })).rejects.toThrow(/V2_0/);
  });

  it('uses an injected role source (the database in a real deployment)', async () => {
    const out = await handler(event(), { loadRoles: async () => ({ tenantId: 'initech', roles: [] }) });
    expect(out.response.claimsAndScopeOverrideDetails.accessTokenGeneration.claimsToAddOrOverride).toEqual({
      'custom:tenantId': 'initech',
      'custom:roles': 'VIEWER',
    });
  });
});
