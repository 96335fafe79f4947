import type { Context, Hono } from 'hono';
import type { AuthzenConfig } from '../../config/index.js';
import type { Decision, DecisionRequest } from '../../core/decision.js';
import { AuthzError } from '../../core/errors.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { readBodyText } from '../http/body-limit.js';
import type { ErrorRenderer } from '../http/app.js';
import { parseJsonBody } from '../shared/json-body.js';
import { zodBody } from '../shared/zod-body.js';
import { expandEvaluations, toDecisionRequest } from './request.js';
import { echoRequestId, evaluationBody, failedItemBody, renderAuthzenError } from './response.js';
import { EvaluationBody, EvaluationsBody, type EvaluationsSemantic } from './wire.js';

export interface AuthzenDeps {
  pipeline: Pipeline;
  config: AuthzenConfig;
  batchLimit: number;
}

export const EVALUATION_PATH = '/access/v1/evaluation';
export const EVALUATIONS_PATH = '/access/v1/evaluations';
export const METADATA_PATH = '/.well-known/authzen-configuration';

/**
 * Every error on the AuthZEN door's paths, including those raised before its handlers run (413,
 * 408, 503 `overloaded`, 404), in AuthZEN's shape: no `decision` field, X-Request-ID echoed.
 */
export const authzenErrors: ErrorRenderer = {
  matches: (path) =>
    path.startsWith('/access/v1/') || path === '/access/v1' || path.startsWith(METADATA_PATH),
  render: renderAuthzenError,
};

/** The spec's MUST: `Content-Type: application/json` (parameters such as charset allowed), else 400. */
function requireJson(c: Context): void {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new AuthzError('invalid_request', 'The request Content-Type must be application/json.', {
      fields: [{ path: '(content-type)', message: 'expected application/json' }],
    });
}

/**
 * OpenID AuthZEN Authorization API 1.0 (evaluation, evaluations, metadata). The caller states
 * the subject and nothing is verified, so this API is for trusted local callers, served on the
 * same listener (loopback by default) as `/v1/is-authorized`. Errors are rendered by
 * `authzenErrors` (wired in createHttpApp), never with the sidecar's `"decision": "DENY"` body.
 */
export function mountAuthzen(app: Hono, deps: AuthzenDeps): void {
  const { pipeline, config } = deps;

  app.post(EVALUATION_PATH, async (c) => {
    echoRequestId(c);
    requireJson(c);
    const body = zodBody(EvaluationBody, parseJsonBody(await readBodyText(c)));
    return c.json(evaluationBody(await pipeline.decide(toDecisionRequest(config, body))));
  });

  app.post(EVALUATIONS_PATH, async (c) => {
    echoRequestId(c);
    requireJson(c);
    const body = zodBody(EvaluationsBody, parseJsonBody(await readBodyText(c)));
    if ((body.evaluations?.length ?? 0) > deps.batchLimit) {
      throw new AuthzError(
        'batch_too_large',
        `At most ${deps.batchLimit} evaluations; this request has ${body.evaluations!.length}.`,
        { fields: [{ path: 'evaluations', message: `at most ${deps.batchLimit} items` }] },
      );
    }
    const items = expandEvaluations(body);
    // Without items the request is a single evaluation, and so is its answer (a hole: a 400).
    if (!body.evaluations?.length) {
      const [only] = items;
      if (!only?.ok) throw only?.error ?? new AuthzError('invalid_request');
      return c.json(evaluationBody(await pipeline.decide(toDecisionRequest(config, only.body))));
    }
    // An item that cannot be turned into a request fails alone (decision false, the reason in
    // its context), as an item the pipeline denies would.
    const entries = items.map((item): DecisionRequest | AuthzError => {
      if (!item.ok) return item.error;
      try {
        return toDecisionRequest(config, item.body);
      } catch (err) {
        if (err instanceof AuthzError) return err;
        throw err;
      }
    });
    const semantic = body.options?.evaluations_semantic ?? 'execute_all';
    return c.json({ evaluations: await decideItems(pipeline, entries, semantic) });
  });

  app.get(METADATA_PATH, (c) => {
    echoRequestId(c);
    const base = (config.policyDecisionPoint ?? new URL(c.req.url).origin).replace(/\/+$/, '');
    return c.json({
      policy_decision_point: base,
      access_evaluation_endpoint: `${base}${EVALUATION_PATH}`,
      access_evaluations_endpoint: `${base}${EVALUATIONS_PATH}`,
    });
  });
}

type ItemBody = ReturnType<typeof evaluationBody> | ReturnType<typeof failedItemBody>;
const failed = (err: AuthzError) => failedItemBody(err.code, err.message, err.fields);

/**
 * Decides a batch whose items may have failed already, in request order. `execute_all`: every
 * valid item in one pipeline batch. The short-circuit semantics stop after the first answer of
 * their kind, and a failed item is a deny: `deny_on_first_deny` stops at it, `permit_on_first_permit`
 * goes on past it. Items after the stop are not evaluated and not in the answer.
 */
async function decideItems(
  pipeline: Pipeline,
  entries: (DecisionRequest | AuthzError)[],
  semantic: EvaluationsSemantic,
): Promise<ItemBody[]> {
  const isFailed = (e: DecisionRequest | AuthzError): e is AuthzError => e instanceof AuthzError;
  if (semantic === 'execute_all') {
    const valid = entries.filter((e): e is DecisionRequest => !isFailed(e));
    const decided = valid.length ? await pipeline.decideBatch(valid, { semantic }) : [];
    let next = 0;
    return entries.map((e) => (isFailed(e) ? failed(e) : evaluationBody(decided[next++]!)));
  }
  const stopOn = semantic === 'deny_on_first_deny' ? 'DENY' : 'ALLOW';
  const out: ItemBody[] = [];
  for (let i = 0; i < entries.length;) {
    const entry = entries[i]!;
    if (isFailed(entry)) {
      out.push(failed(entry));
      if (stopOn === 'DENY') break;
      i++;
      continue;
    }
    let end = i;
    while (end < entries.length && !isFailed(entries[end]!)) end++;
    const segment = entries.slice(i, end) as DecisionRequest[];
    const decided: Decision[] = await pipeline.decideBatch(segment, { semantic });
    out.push(...decided.map(evaluationBody));
    if (decided.length < segment.length || decided.at(-1)?.decision === stopOn) break;
    i = end;
  }
  return out;
}
