import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson, startTestSidecar } from '../support/sidecar.js';

const dir = mkdtempSync(path.join(tmpdir(), 'authz-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const view = (tenant: string) => ({
  store: 'services',
  principal: { type: 'Payments::Service', id: 'reporting-svc' },
  action: { type: 'Payments::Action', id: 'ViewAccount' },
  resource: { type: 'Payments::Account', id: 'acme-ops' },
  context: { onBehalfOfTenant: tenant },
  entities: [
    { uid: { type: 'Payments::Service', id: 'reporting-svc' }, attrs: { scopes: ['accounts/read'] } },
    {
      uid: { type: 'Payments::Account', id: 'acme-ops' },
      attrs: { tenantId: 'acme', accountType: 'BUSINESS', country: 'GB' },
    },
  ],
});

describe('decision log to a file', () => {
  it('writes one masked JSON line per decision, cache hits included, and flushes on close', async () => {
    const file = path.join(dir, 'logs/decisions.log');
    const sidecar = await startTestSidecar({
      policies: { watch: false },
      decisionLog: { enabled: true, destination: file, maskPaths: ['context.onBehalfOfTenant'] },
    });
    const answers = [];
    for (const tenant of ['acme', 'acme', 'globex'])
      answers.push((await postJson(`${sidecar.url}/v1/is-authorized`, view(tenant))).json);
    await sidecar.close();

    const text = readFileSync(file, 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.decisionId, l.decision, l.cached])).toEqual([
      [answers[0]!.decisionId, 'ALLOW', false],
      [answers[1]!.decisionId, 'ALLOW', true],
      [answers[2]!.decisionId, 'DENY', false],
    ]);
    expect(lines[0]).toMatchObject({
      type: 'decision',
      callerType: null,
      principal: 'Payments::Service::"reporting-svc"',
      action: 'Payments::Action::"ViewAccount"',
      resource: 'Payments::Account::"acme-ops"',
      determiningPolicies: ['view-on-behalf-of-tenant'],
      errors: [],
      reason: null,
      store: 'services',
      storeVersion: answers[0]!.storeVersion,
      context: { onBehalfOfTenant: '***' },
    });
    expect(new Date(lines[0].time).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(lines[0].durationMs).toBeGreaterThan(0);
    expect(text).not.toContain('globex');
  });

  it('refuses to start when the file cannot be opened, naming the key', async () => {
    const notAFolder = path.join(dir, 'plain-file');
    writeFileSync(notAFolder, '');
    await expect(
      startTestSidecar({
        policies: { watch: false },
        decisionLog: { enabled: true, destination: path.join(notAFolder, 'decisions.log') },
      }),
    ).rejects.toThrow(/decisionLog\.destination/);
  });
});
