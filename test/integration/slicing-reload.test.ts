import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineRequest } from '../../src/core/engine.js';
import { generateTenantStore, rng, sampleRequest } from '../../scripts/gen-tenants.mjs';
import { answers, engine, normalize, tempDir } from '../support/slicing.js';

const tmp = tempDir('slicing-reload');
afterAll(() => tmp.remove());

/** v2 changes a template in place (same id), adds a forbid and drops a link. */
function makeV2(dir: string): void {
  const templates = path.join(dir, 'templates.cedar');
  const text = readFileSync(templates, 'utf8').replace(
    'permit (principal in ?principal, action in Saas::Action::"ReadAll", resource in ?resource);',
    'permit (principal in ?principal, action in Saas::Action::"ReadAll", resource in ?resource)\nwhen { context.mfa };',
  );
  expect(text).toContain('when { context.mfa };');
  writeFileSync(templates, text);
  writeFileSync(
    path.join(dir, 'global.cedar'),
    `${readFileSync(path.join(dir, 'global.cedar'), 'utf8')}\n@id("freeze-writes")\nforbid (principal, action in Saas::Action::"Write", resource);\n`,
  );
  const links = JSON.parse(readFileSync(path.join(dir, 'links.json'), 'utf8')) as { newId: string }[];
  writeFileSync(
    path.join(dir, 'links.json'),
    JSON.stringify(links.filter((l) => l.newId !== 't00001|member')),
  );
}

describe('hot reload of a sliced 10,000-tenant store', () => {
  it('swaps version, index and slice cache at once: every answer is wholly the old or the new version’s', async () => {
    const tenants = 10_000;
    const v1 = path.join(tmp.dir, 'v1');
    const v2 = path.join(tmp.dir, 'v2');
    const live = path.join(tmp.dir, 'live');
    generateTenantStore(v1, { tenants });
    cpSync(v1, v2, { recursive: true });
    makeV2(v2);
    cpSync(v1, live, { recursive: true });

    const r = rng(2024);
    const requests: EngineRequest[] = Array.from({ length: 400 }, (_, i) =>
      sampleRequest(r, i % 4 === 0 ? 3 : tenants, { mix: i % 2 ? 'edge' : 'realistic' }),
    );
    const expected1 = await answers(engine(v1, 'on'), requests);
    const expected2 = await answers(engine(v2, 'on'), requests);
    const version1 = (
      expected1.find((a) => (a as { storeVersion?: string }).storeVersion) as { storeVersion: string }
    ).storeVersion;
    const version2 = (
      expected2.find((a) => (a as { storeVersion?: string }).storeVersion) as { storeVersion: string }
    ).storeVersion;
    expect(version1).not.toBe(version2);
    const differ = expected1.filter((a, i) => JSON.stringify(a) !== JSON.stringify(expected2[i])).length;
    expect(differ).toBeGreaterThan(40);

    const store = engine(live, 'on');
    // Warm: the slice cache now holds v1's slices under the same policy ids v2 uses.
    expect(await answers(store, requests)).toEqual(expected1);

    const seen = { [version1]: 0, [version2]: 0 };
    let reloaded = false;
    let afterReload = 0;
    const decideLoop = async () => {
      for (let round = 0; round < 60; round++) {
        const start = (round * 37) % requests.length;
        const batch = requests.slice(start, start + 20);
        const got = (await store.decide(batch)).map((a) => normalize(a));
        got.forEach((answer, j) => {
          const i = start + j;
          const version =
            (answer as { storeVersion?: string }).storeVersion ?? (reloaded ? version2 : version1);
          expect([version1, version2]).toContain(version);
          const want = version === version1 ? expected1[i] : expected2[i];
          expect(answer, `request ${i} at ${version}`).toEqual(want);
          seen[version]!++;
          if (reloaded) {
            expect(version).toBe(version2);
            afterReload++;
          }
        });
        await tick();
      }
    };
    const reloadLoop = async () => {
      for (let i = 0; i < 10; i++) await tick();
      cpSync(v2, live, { recursive: true });
      const result = store.reload();
      expect(result).toEqual({ ok: true, version: version2, changed: true });
      reloaded = true;
    };
    await Promise.all([decideLoop(), reloadLoop()]);
    expect(seen[version1]).toBeGreaterThan(0);
    expect(afterReload).toBeGreaterThan(0);
    expect(store.status()).toMatchObject({ version: version2, policies: expect.any(Number) });
  }, 600_000);
});
