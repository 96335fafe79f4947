import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  ensureDevKeys,
  mintDevToken,
  type DevTokenOptions,
} from '../../src/identity/dev-issuer.js';

/**
 * A development issuer for tests of the token operations: a fresh key in a temp folder, an issuer
 * config shaped like config/dev.yaml (Cognito-like ID tokens for users, client-credentials access
 * tokens for services) with bare subjects as principal ids, so the sample policies' ids match.
 */
export async function createTestIssuer() {
  const keyDir = mkdtempSync(path.join(os.tmpdir(), 'authz-avp-keys-'));
  const { jwksFile } = await ensureDevKeys(keyDir);
  const issuer = {
    name: 'dev',
    issuer: DEV_ISSUER,
    jwksFile,
    audiences: [DEV_AUDIENCE, 'settlement-svc', 'fraud-svc', 'statements-svc'],
    tokenUse: ['id', 'access'],
    algorithms: ['ES256'],
    principalIdFormat: 'sub',
    groupIdFormat: 'name',
    entityTypes: { user: 'Payments::User', group: 'Payments::UserGroup', service: 'Payments::Service' },
    attributes: {
      'custom:tenantId': 'tenantId',
      'custom:approvalLimit': { attribute: 'approvalLimit', type: 'decimal' },
    },
    accessTokenContext: {
      key: 'token',
      claims: { scope: { attribute: 'scope', type: 'set' }, client_id: 'client_id' },
    },
  };
  return {
    issuer,
    routes: [
      { callerType: 'user', store: 'customers' },
      { callerType: 'service', store: 'services' },
    ],
    mint: (o: Omit<DevTokenOptions, 'keyDir'>) => mintDevToken({ ...o, keyDir }),
    cleanup: () => rmSync(keyDir, { recursive: true, force: true }),
  };
}
