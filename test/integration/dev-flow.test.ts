import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSidecar, type Sidecar } from '../../src/server.js';
import { authorize, onAccount, onPayment, policyIds } from '../support/authorize.js';
import { REPO_ROOT } from '../support/sidecar.js';

/**
 * The development flow with the real CLI (`npm test` builds dist/ first): the sidecar runs
 * config/dev.yaml pointed at a temporary key folder, tokens come from `authz-sidecar token`.
 */
const BIN = path.join(REPO_ROOT, 'bin/authz-sidecar.js');
let dir: string;
let keyDir: string;
let sidecar: Sidecar;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function token(...args: string[]): Promise<string> {
  const res = await cli(['token', '--key-dir', keyDir, ...args]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.trim();
}

const tokens: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dev-flow-'));
  keyDir = path.join(dir, 'keys');
  // config/dev.yaml as shipped, with its two paths pointed at the repo's policies and the temp key folder.
  const yaml = readFileSync(path.join(REPO_ROOT, 'config/dev.yaml'), 'utf8')
    .replaceAll('../.dev-keys', keyDir)
    .replace('dir: ../policies', `dir: ${path.join(REPO_ROOT, 'policies')}`);
  expect(yaml).toContain(`jwksFile: ${keyDir}/jwks.json`);
  writeFileSync(path.join(dir, 'dev.yaml'), yaml);
  const loaded = loadConfig({ configPath: path.join(dir, 'dev.yaml'), env: { AUTHZ_PORT: '0' } });
  loaded.config.policies.watch = false;
  // Starting generates the key pair (the tokens below are then signed with it).
  sidecar = await startSidecar(loaded, createLogger('silent'));
  expect(existsSync(path.join(keyDir, 'private.jwk.json'))).toBe(true);

  const minted = await Promise.all([
    token('--sub', 'alice', '--group', 'PAYMENT_INITIATOR', '--claim', 'custom:tenantId=acme'),
    token(
      '--sub',
      'bob',
      '--group',
      'PAYMENT_APPROVER',
      '--claim',
      'custom:tenantId=acme',
      '--claim',
      'custom:approvalLimit=50000',
    ),
    token('--service', '--client-id', 'settlement-svc', '--scope', 'payments/settle'),
    token('--service', '--client-id', 'reporting-svc', '--scope', 'payments/read'),
    token(
      '--sub',
      'alice',
      '--group',
      'PAYMENT_INITIATOR',
      '--claim',
      'custom:tenantId=acme',
      // `--expires-in -300` reads as an option to parseArgs: a negative value needs the `=` form.
      '--expires-in=-300',
    ),
  ]);
  [tokens.alice, tokens.bob, tokens.settle, tokens.reporting, tokens.expired] = minted;
});

afterAll(async () => {
  await sidecar?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dev tokens from the CLI', () => {
  it('are Cognito-shaped: an ID token for a user, a client-credentials access token for a service', () => {
    expect(decodeJwt(tokens.alice!)).toMatchObject({
      iss: 'urn:authz-sidecar:dev',
      aud: 'authz-sidecar-dev',
      sub: 'alice',
      token_use: 'id',
      'cognito:groups': ['PAYMENT_INITIATOR'],
      'custom:tenantId': 'acme',
    });
    expect(decodeJwt(tokens.settle!)).toMatchObject({
      sub: 'settlement-svc',
      client_id: 'settlement-svc',
      token_use: 'access',
      scope: 'payments/settle',
    });
  });
});

describe('the walkthrough cases against the dev config', () => {
  it('PAYMENT_INITIATOR on a BUSINESS account of their tenant: ALLOW', async () => {
    const res = await authorize(sidecar.url, tokens.alice, onAccount('InitiatePayment', 'acme-ops'));
    expect(res.json).toMatchObject({
      decision: 'ALLOW',
      store: 'customers',
      callerType: 'user',
      principal: { type: 'Payments::User', id: 'dev|alice' },
    });
    expect(policyIds(res.json)).toEqual(['initiator-business-accounts']);
  });

  it('on a PERSONAL account: DENY', async () => {
    const res = await authorize(sidecar.url, tokens.alice, onAccount('InitiatePayment', 'acme-personal'));
    expect(res.json).toMatchObject({ decision: 'DENY', determiningPolicies: [] });
  });

  it("on another tenant's account: DENY by tenant isolation", async () => {
    const res = await authorize(sidecar.url, tokens.alice, onAccount('InitiatePayment', 'globex-main'));
    expect(res.json.decision).toBe('DENY');
    expect(policyIds(res.json)).toEqual(['tenant-isolation']);
  });

  it('a service with the settlement scope settles (ALLOW), one without cannot (DENY)', async () => {
    const settle = await authorize(sidecar.url, tokens.settle, onPayment('SettlePayment', 'APPROVED'));
    expect(settle.json).toMatchObject({
      decision: 'ALLOW',
      store: 'services',
      callerType: 'service',
      principal: { type: 'Payments::Service', id: 'settlement-svc' },
    });
    const reporting = await authorize(sidecar.url, tokens.reporting, onPayment('SettlePayment', 'APPROVED'));
    expect(reporting.json).toMatchObject({ decision: 'DENY', store: 'services', determiningPolicies: [] });
  });

  it('an approver whose limit claim is a whole number approves within it (decimal claim mapping)', async () => {
    const payment = (amount: string) => ({
      action: { type: 'Payments::Action', id: 'ApprovePayment' },
      resource: {
        type: 'Payments::Payment',
        id: `pay-${amount}`,
        attributes: {
          tenantId: 'acme',
          amount: { __extn: { fn: 'decimal', arg: amount } },
          currency: 'EUR',
          destinationCountry: 'DE',
          initiatedBy: { __entity: { type: 'Payments::User', id: 'dev|alice' } },
        },
        parents: [{ type: 'Payments::Account', id: 'acme-ops' }],
      },
    });
    const within = await authorize(sidecar.url, tokens.bob, payment('25000.00'));
    expect(within.status).toBe(200);
    expect(within.json.decision).toBe('ALLOW');
    expect(policyIds(within.json)).toEqual(['approver-within-limit']);
    const above = await authorize(sidecar.url, tokens.bob, payment('75000.00'));
    expect(above.json).toMatchObject({ decision: 'DENY', determiningPolicies: [] });
  });

  it('a token minted with a past expiry is refused (401 expired)', async () => {
    const res = await authorize(sidecar.url, tokens.expired, onAccount('InitiatePayment', 'acme-ops'));
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ decision: 'DENY', reason: 'expired' });
  });
});

describe('token CLI errors', () => {
  const cases: [string, string[], string][] = [
    ['no --sub for a user token', ['token', '--group', 'PAYMENT_INITIATOR'], 'needs --sub'],
    [
      'a --claim without =',
      ['token', '--sub', 'alice', '--claim', 'custom:tenantId'],
      '--claim expects NAME=VALUE',
    ],
    [
      'a --claim with an empty name',
      ['token', '--sub', 'alice', '--claim', '=acme'],
      '--claim expects NAME=VALUE',
    ],
    [
      'no --client-id for a service token',
      ['token', '--service', '--scope', 'payments/settle'],
      'needs --client-id',
    ],
    ['a non-numeric --expires-in', ['token', '--sub', 'alice', '--expires-in', 'soon'], '--expires-in'],
    ['an unknown option', ['token', '--sub', 'alice', '--admin'], "Unknown option '--admin'"],
  ];
  // The processes run side by side; each case then checks its own result.
  const results = new Map<string, Awaited<ReturnType<typeof cli>>>();
  beforeAll(async () => {
    await Promise.all(
      cases.map(async ([name, args]) => results.set(name, await cli([...args, '--key-dir', keyDir]))),
    );
  });

  it.each(cases)('%s: exits non-zero with the usage and prints no token', (name, _args, message) => {
    const res = results.get(name)!;
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(message);
    expect(res.stderr).toContain('usage: authz-sidecar token --sub ID');
    expect(res.stdout).toBe('');
  });
});
