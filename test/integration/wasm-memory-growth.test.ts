import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/sidecar.js';

const run = promisify(execFile);

/**
 * Regression: on Node 20 a warm local engine aborted the process (V8 `Fatal error: unreachable
 * code` in the deoptimizer) the first time cedar-wasm grew its memory during a decision — found
 * by the tenant-isolation test, whose 50-tenant stores make the memory grow under traffic. The
 * scenario runs in a child process (a V8 abort would take the test worker down) against the
 * built engine (`npm test` builds first): warm the decision path until it is optimized, then one
 * request large enough that Cedar must grow its memory, then an ordinary one.
 */
const script = `
const { LocalStoreEngine } = await import(${JSON.stringify(pathToFileURL(path.join(REPO_ROOT, 'dist/engines/local.js')).href)});
const store = new LocalStoreEngine('services', ${JSON.stringify(path.join(REPO_ROOT, 'policies/services'))});
store.load();
const request = (context) => ({
  principal: { type: 'Payments::Service', id: 'fraud-svc' },
  action: { type: 'Payments::Action', id: 'ScreenPayment' },
  resource: { type: 'Payments::Payment', id: 'p1' },
  context,
  entities: [],
});
for (let i = 0; i < 5000; i++) await store.decide([request({})]);
const [big] = await store.decide([request({ onBehalfOfTenant: 'x'.repeat(4 * 1024 * 1024) })]);
const [after] = await store.decide([request({})]);
console.log(JSON.stringify({ big: big.kind, after: after.kind }));
`;

describe('local engine on a warm process', () => {
  it('survives cedar-wasm growing its memory during a decision', { timeout: 120_000 }, async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      maxBuffer: 1 << 20,
    });
    expect(JSON.parse(stdout.trim())).toEqual({ big: 'evaluated', after: 'evaluated' });
  });
});
