import type { FlipsOneWay, ReplayReport } from './replay.js';
import { formatDiff } from './store-diff.js';

const n = (x: number) => x.toLocaleString('en-US');
const list = (ps: string[]) => (ps.length ? ps.join(', ') : 'none');

function flips(title: string, f: FlipsOneWay, out: string[]): void {
  out.push(`${title}: ${n(f.count)}`);
  for (const g of f.groups) {
    const cause = g.now.length ? `now determined by ${list(g.now)}` : 'no policy permits it now';
    out.push(`  ${n(g.count).padStart(7)}  ${cause} (was: ${list(g.was)})`);
    out.push(`           e.g. ${g.examples.join(', ')}`);
  }
}

/**
 * The report as a person reads it: what changed in the policies, then how many decisions were
 * replayed and skipped, then the flips, DENY→ALLOW first (a request the live store refused that the
 * candidate would let through: the dangerous direction).
 */
export function formatReport(r: ReplayReport, elapsedMs?: number): string {
  const out: string[] = [];
  const same: string[] = [];
  for (const d of r.diffs ?? []) {
    if (d.old.version === d.new.version) same.push(d.new.name);
    else out.push(formatDiff(d).trimEnd(), '');
  }
  if (same.length) out.push(`unchanged stores: ${same.join(', ')}`, '');
  const flipped = r.denyToAllow.count + r.allowToDeny.count;
  out.push(
    `replayed ${n(r.replayed)} of ${n(r.decisions)} recorded decisions${
      elapsedMs === undefined ? '' : ` in ${(elapsedMs / 1e3).toFixed(1)} s`
    }: ${n(r.unchanged)} unchanged, ${n(flipped)} flipped`,
  );
  if (r.samePoliciesChanged)
    out.push(`  (${n(r.samePoliciesChanged)} of the unchanged are now determined by other policies)`);
  if (r.skipped.length) {
    out.push(`skipped ${n(r.skipped.reduce((k, s) => k + s.count, 0))}:`);
    for (const s of r.skipped)
      out.push(
        `  ${n(s.count).padStart(7)}  ${s.reason}${s.examples.length ? ` (e.g. ${s.examples.join(', ')})` : ''}`,
      );
  }
  out.push('');
  flips('DENY → ALLOW (the candidate allows what was denied)', r.denyToAllow, out);
  flips('ALLOW → DENY (the candidate denies what was allowed)', r.allowToDeny, out);
  return `${out.join('\n')}\n`;
}
