import path from 'node:path';
import { LocalStoreEngine } from '../engines/local.js';
import { formatProblem, StoreLoadError } from '../policy/problems.js';
import { readTestSuite, runTestSuite, TEST_FILE } from './test-cases.js';
import { parseCliArgs } from './args.js';
import { storesIn } from './stores-in.js';

const USAGE = 'authz-sidecar test [policies-dir]';

/** Runs every store's tests.yaml: one PASS/FAIL line per case, a summary, exit 1 on any failure. */
export async function testCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { positionals } = parseCliArgs(argv, {}, USAGE);
  const dir = path.resolve(positionals[0] ?? 'policies');
  let passed = 0;
  let failed = 0;
  for (const store of storesIn(dir)) {
    const engine = new LocalStoreEngine(store.name, store.dir);
    try {
      engine.load();
    } catch (err) {
      failed++;
      const lines =
        err instanceof StoreLoadError ? err.problems.map(formatProblem) : [(err as Error).message];
      out.write(`FAIL  ${store.name}: the store does not load\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
      continue;
    }
    let suite;
    try {
      suite = readTestSuite(store.dir);
    } catch (err) {
      failed++;
      out.write(`FAIL  ${store.name}: ${(err as Error).message}\n`);
      continue;
    }
    if (!suite) {
      out.write(`----  ${store.name}: no ${TEST_FILE}\n`);
      continue;
    }
    for (const result of await runTestSuite(engine, suite)) {
      if (result.passed) passed++;
      else failed++;
      out.write(`${result.passed ? 'PASS' : 'FAIL'}  ${store.name}: ${result.name} — ${result.detail}\n`);
    }
  }
  out.write(`\n${passed} cases passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}
