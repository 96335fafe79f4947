/**
 * One fuzz case per seed: a random schema, entities, request and policies; cedar-wasm's answer
 * against ours (schema checks here, evaluation by src/cedar's compiler and authorizer).
 *
 * Compared: whether the request/entities are rejected, then decision, determining policies and
 * the ids of policies that errored. Cases cedar-wasm cannot even parse (our generator's policy
 * text, or a schema it refuses) and policy sets the compiler reports unsupported are skipped and
 * counted, never silently passed.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { authorize } from '../authorize.js';
import { EntityStore } from '../entities.js';
import { policyTextToEst } from '../exact-literals.js';
import { compilePolicySet } from '../policy-set.js';
import { genData } from './gen-data.js';
import { genPolicies } from './gen-policy.js';
import { genSchema } from './gen-schema.js';
import { ourVerdict, wasmVerdict, type RequestCase } from './oracle.js';
import { Rng } from './prng.js';

export type CaseStatus = 'match' | 'mismatch' | 'skipped';

export interface CaseResult {
  seed: number;
  status: CaseStatus;
  /** Why skipped, or what differed. */
  reason?: string;
  /** Both sides rejected the input (a match on acceptance). */
  rejected?: boolean;
  /** The generator meant the input to be invalid. */
  mutated?: boolean;
  /** Everything needed to reproduce, on mismatch. */
  detail?: string;
  /** On an evaluated match: the decision and whether some policy errored. */
  allow?: boolean;
  errored?: boolean;
}

export function runCase(seed: number): CaseResult {
  const r = new Rng(seed);
  const s = genSchema(r);
  const parsed = cedar.checkParseSchema(s.text);
  if (parsed.type === 'failure')
    return { seed, status: 'skipped', reason: `schema: ${parsed.errors[0]?.message}` };
  const data = genData(r, s);
  const asUid = (v: unknown) => {
    const o = v as { type?: string; id?: string; __entity?: { type: string; id: string } };
    return o.__entity ?? { type: String(o.type), id: String(o.id) };
  };
  const pols = genPolicies(r, s, {
    principal: asUid(data.principal),
    action: asUid(data.action),
    resource: asUid(data.resource),
  });
  // Policy text → EST as the engine does it: cedar-wasm's conversion with big literals kept exact.
  const ests: Record<string, unknown> = {};
  const tests: Record<string, unknown> = {};
  try {
    for (const [id, text] of Object.entries(pols.statics)) ests[id] = policyTextToEst(text);
    for (const [id, text] of Object.entries(pols.templates)) tests[id] = policyTextToEst(text, true);
  } catch (e) {
    return { seed, status: 'skipped', reason: `policy text: ${(e as Error).message}` };
  }
  // One case in five hands both sides the schema as JSON (cedar-wasm's own conversion).
  let schema: string | object = s.text;
  if (r.chance(0.2)) {
    const j = cedar.schemaToJson(s.text);
    if (j.type === 'success') schema = j.json;
  }
  const c: RequestCase = { schema, ...data };
  const w = wasmVerdict(c, {
    staticPolicies: pols.statics,
    templates: pols.templates,
    templateLinks: pols.links,
  });
  const o = ourVerdict(c);
  const detail = () =>
    [
      `seed ${seed}`,
      `schema:\n${s.text}`,
      `policies:\n${[...Object.entries(pols.statics), ...Object.entries(pols.templates)].map(([k, v]) => `  ${k}: ${v}`).join('\n')}`,
      pols.links.length ? `links: ${JSON.stringify(pols.links)}` : '',
      `request: ${JSON.stringify({ principal: c.principal, action: c.action, resource: c.resource, context: c.context, validateRequest: c.validateRequest })}`,
      `entities: ${JSON.stringify(c.entities)}`,
      `wasm: ${JSON.stringify(w)}`,
      `ours: ${o.ok ? 'accepted' : o.message}`,
    ]
      .filter(Boolean)
      .join('\n');
  const mutated = data.mutations > 0;
  if (!w.ok || !o.ok) {
    if (w.ok !== o.ok)
      return {
        seed,
        status: 'mismatch',
        mutated,
        reason: w.ok ? 'we rejected, cedar accepted' : 'we accepted, cedar rejected',
        detail: detail(),
      };
    return { seed, status: 'match', rejected: true, mutated };
  }
  const set = compilePolicySet({ staticPolicies: ests, templates: tests, templateLinks: pols.links });
  if (set.unsupported.length)
    return { seed, status: 'skipped', reason: `unsupported: ${set.unsupported[0]!.what}` };
  const res = authorize(set, o.request, new EntityStore(o.entities).view());
  const mine = {
    decision: res.decision,
    reasons: [...res.reasons].sort(),
    errors: res.errors.map((e) => e.policyId).sort(),
  };
  const theirs = { decision: w.decision, reasons: w.reasons, errors: w.errors };
  if (JSON.stringify(mine) !== JSON.stringify(theirs))
    return {
      seed,
      status: 'mismatch',
      mutated,
      reason: `decision differs: ours ${JSON.stringify(mine)} cedar ${JSON.stringify(theirs)}`,
      detail: detail() + `\nours (eval): ${JSON.stringify(res)}`,
    };
  return {
    seed,
    status: 'match',
    rejected: false,
    mutated,
    allow: res.decision === 'allow',
    errored: res.errors.length > 0,
  };
}

export interface FuzzSummary {
  cases: number;
  matched: number;
  rejectedBoth: number;
  skipped: number;
  mismatches: CaseResult[];
  skipReasons: Map<string, number>;
  /** Evaluated matches that allowed / had policy errors (a fuzzer that only denies proves little). */
  allowed: number;
  errored: number;
  ms: number;
}

/** Runs seeds from `start` until `count` cases or `ms` milliseconds, whichever first. */
export function runMany(
  start: number,
  count: number,
  ms = Infinity,
  onMismatch?: (r: CaseResult) => void,
): FuzzSummary {
  const t0 = Date.now();
  const sum: FuzzSummary = {
    cases: 0,
    matched: 0,
    rejectedBoth: 0,
    skipped: 0,
    mismatches: [],
    skipReasons: new Map(),
    allowed: 0,
    errored: 0,
    ms: 0,
  };
  for (let seed = start; sum.cases < count && Date.now() - t0 < ms; seed++) {
    let res: CaseResult;
    try {
      res = runCase(seed);
    } catch (e) {
      res = { seed, status: 'mismatch', reason: `threw: ${(e as Error).stack ?? e}` };
    }
    sum.cases++;
    if (res.status === 'match') {
      sum.matched++;
      if (res.rejected) sum.rejectedBoth++;
      if (res.allow) sum.allowed++;
      if (res.errored) sum.errored++;
    } else if (res.status === 'skipped') {
      sum.skipped++;
      // Group by cause, not by location: `unsupported: policy p1 when[0].left: X` → `unsupported: X`.
      const k = (res.reason ?? '').replace(/policy \S+ [^:]*: /, '').slice(0, 70);
      sum.skipReasons.set(k, (sum.skipReasons.get(k) ?? 0) + 1);
    } else {
      sum.mismatches.push(res);
      onMismatch?.(res);
    }
  }
  sum.ms = Date.now() - t0;
  return sum;
}
