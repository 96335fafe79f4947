/**
 * Runs Cedar integration tests against the TypeScript evaluator.
 *
 * Per test: the policy text is split by cedar-wasm (`policySetTextToParts`) and each policy turned
 * into EST (`policyToJson`), ids positional (`policy0`, `policy1`, …); entities and each request are
 * parsed by a `DataMode` (schema-directed when the schema module is available, else schemaless);
 * each request is authorized by `authorize` and compared with the expected decision, reason set
 * and error-id set. Optionally `shouldValidate` is compared with cedar-wasm's `validate`.
 */
import '../v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorize, type AuthzRequest, type AuthzResponse } from '../authorize.js';
import { EntityStore } from '../entities.js';
import { parseJsonExact } from '../json-exact.js';
import { policyTextToEst } from '../exact-literals.js';
import { compilePolicySet, type CompiledPolicySet } from '../policy-set.js';
import type { DataMode, PreparedData } from './modes.js';

export interface ExpectedRequest {
  description: string;
  principal: unknown;
  action: unknown;
  resource: unknown;
  context: unknown;
  validateRequest?: boolean;
  decision: 'allow' | 'deny';
  reason: string[];
  errors: string[];
}

export interface TestFile {
  policies: string;
  entities: string;
  schema: string;
  shouldValidate: boolean;
  requests: ExpectedRequest[];
}

export type Outcome = 'match' | 'mismatch' | 'skip';

export interface RequestResult {
  test: string;
  index: number;
  outcome: Outcome;
  /** For mismatches and skips: why (first line is a short category). */
  why?: string;
}

export interface TestResult {
  test: string;
  requests: RequestResult[];
  /** `validate` agreement, when asked for: undefined when not checked. */
  validation?: { expected: boolean; got: boolean };
}

/** Policies text → EST per positional id, via cedar-wasm. */
export function splitPolicies(text: string): {
  staticPolicies: Record<string, unknown>;
  templates: Record<string, unknown>;
} {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== 'success')
    throw new Error(`policy parse: ${parts.errors.map((e) => e.message).join('; ')}`);
  const staticPolicies: Record<string, unknown> = {};
  const templates: Record<string, unknown> = {};
  parts.policies.forEach((p, i) => {
    staticPolicies[`policy${i}`] = policyTextToEst(p);
  });
  parts.policy_templates.forEach((p, i) => {
    templates[`template${i}`] = policyTextToEst(p, true);
  });
  return { staticPolicies, templates };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const s = new Set(a);
  const t = new Set(b);
  return s.size === t.size && [...s].every((x) => t.has(x));
}

export function compare(exp: ExpectedRequest, got: AuthzResponse): string | undefined {
  const errIds = got.errors.map((e) => e.policyId);
  if (exp.decision === got.decision && sameSet(exp.reason, got.reasons) && sameSet(exp.errors, errIds))
    return undefined;
  return (
    `decision ${got.decision} (expected ${exp.decision}); reasons [${got.reasons}] (expected [${exp.reason}]); ` +
    `errors [${errIds}] (expected [${exp.errors}])` +
    (got.errors.length > 0 ? `; messages: ${got.errors.map((e) => e.message).join(' | ')}` : '')
  );
}

export interface RunOptions {
  mode: DataMode;
  /** Compare `shouldValidate` with cedar-wasm's `validate`. */
  checkValidation?: boolean;
}

function readJson(root: string, rel: string): unknown {
  return parseJsonExact(readFileSync(join(root, rel), 'utf8'));
}

export function runTest(root: string, testPath: string, opts: RunOptions): TestResult {
  const t = readJson(root, testPath) as TestFile;
  const all = (outcome: Outcome, why: string): TestResult => ({
    test: testPath,
    requests: t.requests.map((_, index) => ({ test: testPath, index, outcome, why })),
  });
  const policyText = readFileSync(join(root, t.policies), 'utf8');
  const schemaText = readFileSync(join(root, t.schema), 'utf8');
  let set: CompiledPolicySet;
  try {
    set = compilePolicySet(splitPolicies(policyText));
  } catch (e) {
    return all('skip', `policies rejected by cedar-wasm's parser\n${(e as Error).message}`);
  }
  if (set.unsupported.length > 0)
    return all(
      'skip',
      `unsupported construct\n${set.unsupported.map((u) => `${u.policyId}: ${u.what}`).join('\n')}`,
    );
  let data: PreparedData;
  let store: EntityStore;
  try {
    data = opts.mode.prepare(schemaText);
    store = new EntityStore(data.entities(readJson(root, t.entities)));
  } catch (e) {
    return all('mismatch', `${opts.mode.name}: entities or schema rejected\n${(e as Error).message}`);
  }
  const view = store.view();
  const requests = t.requests.map((r, index): RequestResult => {
    let req: AuthzRequest;
    try {
      req = data.request(r, r.validateRequest !== false);
    } catch (e) {
      return {
        test: testPath,
        index,
        outcome: 'mismatch',
        why: `${opts.mode.name}: request rejected\n${(e as Error).message}`,
      };
    }
    const got = authorize(set, req, view);
    const diff = compare(r, got);
    return diff === undefined
      ? { test: testPath, index, outcome: 'match' }
      : { test: testPath, index, outcome: 'mismatch', why: `evaluation differs\n${diff}` };
  });
  const out: TestResult = { test: testPath, requests };
  if (opts.checkValidation) {
    const v = cedar.validate({ policies: { staticPolicies: policyText }, schema: schemaText });
    const got = v.type === 'success' && v.validationErrors.length === 0;
    out.validation = { expected: t.shouldValidate, got };
  }
  return out;
}
