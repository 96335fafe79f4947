/**
 * A ~30-policy store and a request mix for a rough in-process timing of `authorize`
 * (not a benchmark suite; used by hand: see the report in the branch history).
 */
import './v8-flags.js';
import { authorize } from './authorize.js';
import { EntityStore } from './entities.js';
import { policyTextToEst } from './exact-literals.js';
import { parseContextJson, parseEntitiesJson } from './json-value.js';
import { compilePolicySet } from './policy-set.js';
import { EntityRef } from './values.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

export function buildSample() {
  const texts: string[] = [];
  for (let i = 0; i < 10; i++)
    texts.push(
      `permit(principal in Group::"g${i}", action in [Action::"view", Action::"list"], resource in Folder::"f${i}");`,
    );
  for (let i = 0; i < 8; i++)
    texts.push(
      `permit(principal, action == Action::"edit", resource is Doc) when { resource.owner == principal && context.mfa && principal.level >= ${i} };`,
    );
  for (let i = 0; i < 5; i++)
    texts.push(
      `permit(principal is User, action, resource) when { principal.dept == "d${i}" && resource has tags && resource.tags.contains("t${i}") && context.ip.isInRange(ip("10.${i}.0.0/16")) };`,
    );
  for (let i = 0; i < 4; i++)
    texts.push(
      `forbid(principal, action, resource) when { resource has classification && resource.classification == "secret${i}" } unless { principal in Group::"cleared" };`,
    );
  texts.push(
    'forbid(principal, action == Action::"delete", resource) unless { context.time < datetime("2030-01-01") };',
  );
  texts.push('permit(principal == User::"root", action, resource);');
  texts.push('permit(principal, action, resource) when { principal.email like "*@admin.example.com" };');
  const staticPolicies: Record<string, unknown> = {};
  texts.forEach((t, i) => (staticPolicies[`p${i}`] = policyTextToEst(t)));
  const set = compilePolicySet({ staticPolicies });
  const entities: unknown[] = [];
  for (let g = 0; g < 10; g++)
    entities.push({
      uid: { type: 'Group', id: `g${g}` },
      attrs: {},
      parents: [{ type: 'Group', id: 'all' }],
    });
  for (let u = 0; u < 200; u++)
    entities.push({
      uid: { type: 'User', id: `u${u}` },
      attrs: { dept: `d${u % 5}`, level: u % 10, email: `u${u}@example.com` },
      parents: [{ type: 'Group', id: `g${u % 10}` }],
    });
  for (let f = 0; f < 10; f++)
    entities.push({ uid: { type: 'Folder', id: `f${f}` }, attrs: {}, parents: [] });
  for (let d = 0; d < 500; d++)
    entities.push({
      uid: { type: 'Doc', id: `d${d}` },
      attrs: {
        owner: { __entity: { type: 'User', id: `u${d % 200}` } },
        tags: [`t${d % 5}`, 'x'],
        classification: d % 50 === 0 ? 'secret1' : 'public',
      },
      parents: [{ type: 'Folder', id: `f${d % 10}` }],
    });
  const store = new EntityStore(parseEntitiesJson(entities));
  const context = parseContextJson({
    mfa: true,
    ip: { __extn: { fn: 'ip', arg: '10.2.3.4' } },
    time: { __extn: { fn: 'datetime', arg: '2026-12-03T08:00:00Z' } },
  });
  const requests = Array.from({ length: 64 }, (_, i) => ({
    principal: new EntityRef('User', `u${(i * 7) % 200}`),
    action: new EntityRef('Action', ['view', 'edit', 'list', 'delete'][i % 4]!),
    resource: new EntityRef('Doc', `d${(i * 13) % 500}`),
    context,
  }));
  return { set, store, requests, texts, entities };
}

/** Mean µs per authorize over `n` calls (after a warm-up). */
export function timeAuthorize(n = 200_000): { usPerCall: number; allows: number } {
  const { set, store, requests } = buildSample();
  const view = store.view();
  let allows = 0;
  for (let i = 0; i < 20_000; i++) authorize(set, requests[i & 63]!, view);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (authorize(set, requests[i & 63]!, view).decision === 'allow') allows++;
  const t1 = process.hrtime.bigint();
  return { usPerCall: Number(t1 - t0) / 1000 / n, allows };
}

/** Same requests through cedar-wasm, for comparison and agreement. */
export function cedarAgreement(): { agree: number; total: number } {
  const { set, store, requests, texts, entities } = buildSample();
  let agree = 0;
  for (const r of requests) {
    const ours = authorize(set, r, store.view());
    const c = cedar.isAuthorized({
      principal: { type: r.principal.type, id: r.principal.id },
      action: { type: r.action.type, id: r.action.id },
      resource: { type: r.resource.type, id: r.resource.id },
      context: {
        mfa: true,
        ip: { __extn: { fn: 'ip', arg: '10.2.3.4' } },
        time: { __extn: { fn: 'datetime', arg: '2026-12-03T08:00:00Z' } },
      },
      policies: { staticPolicies: Object.fromEntries(texts.map((t, i) => [`p${i}`, t])) },
      entities: entities as cedar.Entities,
    });
    if (
      c.type === 'success' &&
      c.response.decision === ours.decision &&
      [...c.response.diagnostics.reason].sort().join() === [...ours.reasons].sort().join()
    )
      agree++;
  }
  return { agree, total: requests.length };
}

/** Mean µs per `store.view(requestEntities)` + `authorize` with two request-only entities. */
export function timeWithRequestEntities(n = 100_000): number {
  const { set, store, requests } = buildSample();
  const reqEntities = parseEntitiesJson([
    {
      uid: { type: 'User', id: 'guest' },
      attrs: { dept: 'd1', level: 3, email: 'g@admin.example.com' },
      parents: [{ type: 'Group', id: 'g1' }],
    },
    { uid: { type: 'Session', id: 's' }, attrs: {}, parents: [{ type: 'User', id: 'guest' }] },
  ]);
  const req = { ...requests[0]!, principal: new EntityRef('User', 'guest') };
  for (let i = 0; i < 10_000; i++) authorize(set, req, store.view(reqEntities));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) authorize(set, req, store.view(reqEntities));
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}
