import type { Context, Hono } from 'hono';
import { AuthzError, isTokenErrorCode } from '../../core/errors.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { Decision, DecisionRequest } from '../../core/decision.js';
import { decisionBody, decisionJson, JSON_TYPE, statusOf } from './render.js';
import { authorizationHeader, bearerChallenge, bearerFrom } from '../shared/bearer.js';
import { callerGone } from '../shared/cancel.js';
import { checkBody } from '../shared/contract.js';
import { parseJsonBody } from '../shared/json-body.js';
import { readBodyText, repeatMissOf } from './body-limit.js';
import { toEntities, type AuthorizeBatchBody, type AuthorizeBody, type AuthorizeItem } from './wire.js';

/** The bearer token: the Authorization header wins over a `token` body field. */
export function bearerToken(c: Context, bodyToken: string | undefined): string | undefined {
  return bearerFrom(authorizationHeader(c)) ?? bodyToken;
}

/** One item of the token API → a pipeline request. Inline resource attributes become the resource entity. */
export function toDecisionRequest(item: AuthorizeItem, token: string | undefined): DecisionRequest {
  const { type, id, attributes, parents } = item.resource;
  const entities = toEntities(item.entities);
  if (attributes || parents) {
    if (entities.some((e) => e.uid.type === type && e.uid.id === id)) {
      throw new AuthzError('invalid_request', 'The resource has inline attributes and is also in entities.', {
        fields: [{ path: 'resource.attributes', message: 'given twice (also in entities)' }],
      });
    }
    entities.push({ uid: { type, id }, attrs: attributes ?? {}, parents: parents ?? [] });
  }
  return {
    subject: { kind: 'token', token },
    action: item.action,
    resource: { type, id },
    context: item.context ?? {},
    entities,
  };
}

/** A token failure answers 401 with the RFC 6750 challenge. */
function tokenFailure(c: Context, d: Decision) {
  c.header('WWW-Authenticate', bearerChallenge(d.reason));
  return c.json({ decision: 'DENY' as const, reason: d.reason, message: d.message }, 401);
}

/**
 * `POST /v1/authorize`: the caller is whoever the bearer token proves; the sidecar picks the store.
 * `POST /v1/authorize/batch`: one token, many items, one answer per item in order.
 */
export function mountAuthorize(
  app: Hono,
  pipeline: Pipeline,
  batchLimit: number,
  explainAllowed = true,
): void {
  const explainRefused = () =>
    new AuthzError(
      'invalid_request',
      'Explanations are turned off for the token API (server.explainTokenApi).',
      {
        fields: [{ path: 'explain', message: 'explanations are off on this API' }],
      },
    );
  app.post('/v1/authorize', async (c) => {
    const text = await readBodyText(c);
    // A byte-identical repeat by the same verified caller is answered before the body is parsed;
    // a token given in the body (not the header) is known only after parsing.
    const decision = await pipeline.decideRaw(
      { door: 'authorize', text },
      bearerFrom(authorizationHeader(c)),
      () => {
        const body = checkBody<AuthorizeBody>('AuthorizeRequest', parseJsonBody(text));
        const request = toDecisionRequest(body, bearerToken(c, body.token));
        const signal = callerGone(c);
        if (signal) request.signal = signal;
        if (body.explain) {
          if (!explainAllowed) throw explainRefused();
          request.explain = true;
        }
        return request;
      },
      repeatMissOf(c),
    );
    if (decision.reason && isTokenErrorCode(decision.reason)) return tokenFailure(c, decision);
    return c.body(decisionJson(decision, true), statusOf(decision), JSON_TYPE);
  });

  app.post('/v1/authorize/batch', async (c) => {
    const body = checkBody<AuthorizeBatchBody>('AuthorizeBatchRequest', parseJsonBody(await readBodyText(c)));
    if (body.items.length > batchLimit) {
      throw new AuthzError(
        'batch_too_large',
        `A batch holds at most ${batchLimit} items; this one has ${body.items.length}.`,
        {
          fields: [{ path: 'items', message: `at most ${batchLimit} items` }],
        },
      );
    }
    const token = bearerToken(c, body.token);
    if (body.explain && !explainAllowed) throw explainRefused();
    const signal = callerGone(c);
    const decisions = await pipeline.decideBatch(
      body.items.map((item) => ({
        ...toDecisionRequest(item, token),
        ...(body.explain ? { explain: true } : {}),
        ...(signal ? { signal } : {}),
      })),
    );
    const tokenDenied = decisions.find((d) => d.reason && isTokenErrorCode(d.reason));
    if (tokenDenied) return tokenFailure(c, tokenDenied);
    const first = decisions.find((d) => d.principal);
    return c.json({
      results: decisions.map(decisionBody),
      ...(first ? { principal: first.principal, callerType: first.callerType } : {}),
    });
  });
}
