import type { Context, Hono } from 'hono';
import type { AuthzenConfig } from '../../config/index.js';
import { AuthzError } from '../../core/errors.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { readBodyText } from '../http/body-limit.js';
import { parseJsonBody } from '../shared/json-body.js';
import { zodBody } from '../shared/zod-body.js';
import { expandEvaluations, toDecisionRequest } from './request.js';
import { evaluationBody } from './response.js';
import { EvaluationBody, EvaluationsBody } from './wire.js';

export interface AuthzenDeps {
  pipeline: Pipeline;
  config: AuthzenConfig;
  batchLimit: number;
}

export const EVALUATION_PATH = '/access/v1/evaluation';
export const EVALUATIONS_PATH = '/access/v1/evaluations';

/** The spec's MUST: a request's `X-Request-ID` comes back on the response. */
function echoRequestId(c: Context): void {
  const id = c.req.header('x-request-id');
  if (id) c.header('X-Request-ID', id);
}

/**
 * OpenID AuthZEN Authorization API 1.0 (evaluation, evaluations, metadata). The caller states
 * the subject and nothing is verified, so this API is for trusted local callers, served on the
 * same listener (loopback by default) as `/v1/is-authorized`.
 */
export function mountAuthzen(app: Hono, deps: AuthzenDeps): void {
  const { pipeline, config } = deps;

  app.post(EVALUATION_PATH, async (c) => {
    echoRequestId(c);
    const body = zodBody(EvaluationBody, parseJsonBody(await readBodyText(c)));
    return c.json(evaluationBody(await pipeline.decide(toDecisionRequest(config, body))));
  });

  app.post(EVALUATIONS_PATH, async (c) => {
    echoRequestId(c);
    const body = zodBody(EvaluationsBody, parseJsonBody(await readBodyText(c)));
    const items = expandEvaluations(body);
    if (items.length > deps.batchLimit) {
      throw new AuthzError(
        'batch_too_large',
        `At most ${deps.batchLimit} evaluations; this request has ${items.length}.`,
        {
          fields: [{ path: 'evaluations', message: `at most ${deps.batchLimit} items` }],
        },
      );
    }
    const requests = items.map((item) => toDecisionRequest(config, item));
    // Without an `evaluations` array the request is a single evaluation, and so is its answer.
    if (!body.evaluations?.length) return c.json(evaluationBody(await pipeline.decide(requests[0]!)));
    const decisions = await pipeline.decideBatch(requests, {
      semantic: body.options?.evaluations_semantic ?? 'execute_all',
    });
    return c.json({ evaluations: decisions.map(evaluationBody) });
  });

  app.get('/.well-known/authzen-configuration', (c) => {
    const base = (config.policyDecisionPoint ?? new URL(c.req.url).origin).replace(/\/+$/, '');
    return c.json({
      policy_decision_point: base,
      access_evaluation_endpoint: `${base}${EVALUATION_PATH}`,
      access_evaluations_endpoint: `${base}${EVALUATIONS_PATH}`,
    });
  });
}
