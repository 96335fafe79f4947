import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { parseExposition } from '../support/prometheus.js';
import { REPO_ROOT } from '../support/sidecar.js';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'deploy/grafana/authz-sidecar.json'), 'utf8'),
) as { uid: string; panels: Panel[]; annotations: { list: { expr?: string }[] } };

const exprs = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr }))),
  ...dashboard.annotations.list.flatMap((a) => (a.expr ? [{ title: 'annotation', expr: a.expr }] : [])),
];

/** Series names the sidecar exposes, with the _bucket/_sum/_count of histograms. */
async function exposedNames(): Promise<Set<string>> {
  const metrics = createMetrics({ callerTypes: [] });
  const exp = parseExposition(await metrics.registry.metrics());
  const histograms = [...exp.types].filter(([, type]) => type === 'histogram').map(([name]) => name);
  return new Set([
    ...exp.types.keys(),
    ...exp.samples.map((s) => s.name),
    ...histograms.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
  ]);
}

describe('deploy/grafana/authz-sidecar.json', () => {
  it('shows what the issue asks for', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    expect(all).toContain('sum by (store, decision) (rate(authz_decisions_total');
    expect(all).toMatch(/histogram_quantile\(0\.5, .*authz_decision_duration_seconds_bucket/);
    expect(all).toMatch(/histogram_quantile\(0\.99, .*authz_decision_duration_seconds_bucket/);
    expect(all).toContain('authz_cache_hits_total');
    expect(all).toContain(
      'authz_token_verifications_total{job=~"$job", instance=~"$instance", result="failure"}',
    );
    expect(all).toContain('authz_policy_reloads_total');
    expect(all).toContain('authz_policy_store_info');
  });

  it('only queries metrics the sidecar exposes', async () => {
    const names = await exposedNames();
    const used = new Set<string>();
    for (const { title, expr } of exprs) {
      for (const [name] of expr.matchAll(/\b(?:authz|process|nodejs)_[a-z0-9_]+/g)) {
        expect(names.has(name), `${title}: ${name}`).toBe(true);
        used.add(name);
      }
    }
    expect(used.size).toBeGreaterThan(10);
  });

  it('has unique panel ids and a stable uid', () => {
    const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.uid).toBe('authz-sidecar');
  });
});
