import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSidecar, type Sidecar } from '../../src/server.js';
import { REPO_ROOT } from '../support/sidecar.js';

const run = promisify(execFile);

/**
 * The README's walkthrough, run as written: each `sh` block is executed by bash (the tokens it
 * mints carry over to later blocks), against the dev config, and its output must show what the
 * README shows after it (the decision, the determining policies and reasons it names).
 */
interface Step {
  script: string;
  expected: string;
}

function walkthroughSteps(): Step[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Walkthrough'),
    readme.indexOf('\n## ', readme.indexOf('## Walkthrough') + 5),
  );
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]! }));
  const steps: Step[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== 'sh') return;
    const next = blocks[i + 1];
    const inlineExpected = b.body
      .split('\n')
      .filter((l) => l.startsWith('# '))
      .join('\n');
    steps.push({ script: b.body, expected: next?.lang === 'json' ? next.body : inlineExpected });
  });
  return steps;
}

/** What an expected snippet pins down: decisions, policy ids, reasons, status lines. */
function expectations(expected: string): string[] {
  const pins = [
    ...expected.matchAll(/"decision":"(ALLOW|DENY)"/g),
    ...expected.matchAll(/"policyId":"[^"]+"/g),
    ...expected.matchAll(/"reason":"[^"]+"/g),
    ...expected.matchAll(/"callerType":"[^"]+"/g),
    ...expected.matchAll(/"principal":\{[^}]+\}/g),
    ...expected.matchAll(/HTTP\/1\.1 \d+/g),
  ].map((m) => m[0]);
  if (expected.includes('"determiningPolicies":[]')) pins.push('"determiningPolicies":[]');
  return pins;
}

let sidecar: Sidecar;
beforeAll(async () => {
  const loaded = loadConfig({ configPath: path.join(REPO_ROOT, 'config/dev.yaml'), env: {} });
  loaded.config.server.port = 0;
  loaded.config.grpc.port = 0;
  loaded.config.policies.watch = false;
  loaded.config.decisionLog.enabled = false; // the walkthrough reads responses; keep the test output clean
  sidecar = await startSidecar(loaded, createLogger('silent'));
});
afterAll(async () => sidecar?.close());

describe('README walkthrough', () => {
  it('runs as written and shows what the README says', { timeout: 240_000 }, async () => {
    const steps = walkthroughSteps();
    expect(steps.length).toBeGreaterThanOrEqual(8);
    let env = '';
    let checked = 0;
    for (const step of steps) {
      const script = step.script.replaceAll('http://127.0.0.1:8181', sidecar.url);
      // Carry variables (the minted tokens) from one block to the next.
      const { stdout } = await run(
        'bash',
        [
          '-c',
          `set -e\n${env}\n${script}\necho; echo "__ENV__"; for v in ALICE SETTLE REPORTING OLIVIA; do if [ -n "\${!v:-}" ]; then declare -p "$v"; fi; done`,
        ],
        {
          cwd: REPO_ROOT,
          maxBuffer: 1 << 20,
        },
      );
      const [output, exported] = stdout.split('__ENV__');
      env = exported ?? env;
      for (const pin of expectations(step.expected)) {
        expect(output!, `step:\n${step.script}`).toContain(pin);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(15);
    // Ten bash blocks, four of them `npx authz-sidecar token` (a few seconds each on a loaded
    // 2-core machine, 14 s seen): the default 30 s is too tight.
  });
});
