/**
 * The whole conformance run (`npm run conformance`): every hand-written and generated test,
 * totals, and each mismatch/skip grouped by its reason.
 */
import { caveatList, corpusRoot, corpusTests, handwrittenTests, VENDOR_DIR } from './corpus.js';
import { bestMode } from './best-mode.js';
import { runTest, type RequestResult, type TestResult } from './runner.js';
import type { DataMode } from './modes.js';

export interface Summary {
  mode: string;
  total: number;
  matched: number;
  mismatched: number;
  skipped: number;
  results: TestResult[];
}

export function runSuite(
  tests: { root: string; path: string }[],
  mode: DataMode,
  checkValidation = false,
): Summary {
  const results = tests.map((t) => runTest(t.root, t.path, { mode, checkValidation }));
  const reqs = results.flatMap((r) => r.requests);
  return {
    mode: mode.name,
    total: reqs.length,
    matched: reqs.filter((r) => r.outcome === 'match').length,
    mismatched: reqs.filter((r) => r.outcome === 'mismatch').length,
    skipped: reqs.filter((r) => r.outcome === 'skip').length,
    results,
  };
}

export function allTests(): { root: string; path: string }[] {
  const root = corpusRoot();
  return [
    ...handwrittenTests().map((path) => ({ root: VENDOR_DIR, path })),
    ...corpusTests(root).map((path) => ({ root, path })),
  ];
}

function group(rs: RequestResult[]): Map<string, RequestResult[]> {
  const m = new Map<string, RequestResult[]>();
  for (const r of rs) {
    const k = (r.why ?? '').split('\n')[0]!;
    const list = m.get(k) ?? [];
    list.push(r);
    m.set(k, list);
  }
  return m;
}

export function report(s: Summary, verbose: boolean): string {
  const lines = [
    `mode: ${s.mode}`,
    `total ${s.total}  matched ${s.matched}  mismatched ${s.mismatched}  skipped ${s.skipped}`,
  ];
  const caveats = [
    ['corpus-bigint-in-data.txt', caveatList('corpus-bigint-in-data.txt')],
    ['corpus-offset-in-data.txt', caveatList('corpus-offset-in-data.txt')],
  ] as const;
  for (const kind of ['mismatch', 'skip'] as const) {
    const rs = s.results.flatMap((r) => r.requests).filter((r) => r.outcome === kind);
    for (const [why, list] of group(rs)) {
      const tests = new Set(list.map((r) => r.test));
      lines.push(`${kind}: ${list.length} request(s) in ${tests.size} test(s): ${why}`);
      for (const [name, c] of caveats) {
        const n = [...tests].filter((t) => c.has(t)).length;
        if (n > 0) lines.push(`  of which ${n} test(s) listed in ${name}`);
      }
      const shown = verbose ? list : list.slice(0, 5);
      for (const r of shown)
        lines.push(
          `  ${r.test} #${r.index}: ${(r.why ?? '').split('\n').slice(1).join(' / ').slice(0, 400)}`,
        );
      if (shown.length < list.length) lines.push(`  … ${list.length - shown.length} more`);
    }
  }
  const checked = s.results.filter((r) => r.validation !== undefined);
  if (checked.length > 0) {
    const differs = caveatList('corpus-validation-differs-4.13.txt');
    const bad = checked.filter((r) => r.validation!.expected !== r.validation!.got);
    const known = bad.filter((r) => differs.has(r.test));
    lines.push(
      `validation (cedar-wasm validate vs shouldValidate): ${checked.length} tests, ${checked.length - bad.length} agree, ` +
        `${known.length} differ as listed in corpus-validation-differs-4.13.txt, ${bad.length - known.length} differ otherwise`,
    );
    for (const r of bad.filter((x) => !differs.has(x.test)).slice(0, 10)) lines.push(`  ${r.test}`);
  }
  return lines.join('\n');
}

export function main(argv: string[]): number {
  const verbose = argv.includes('--verbose');
  const checkValidation = argv.includes('--validate');
  const started = Date.now();
  const s = runSuite(allTests(), bestMode(), checkValidation);
  console.log(report(s, verbose));
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return s.mismatched === 0 ? 0 : 1;
}
