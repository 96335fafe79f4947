import type { Context, Hono } from 'hono';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { callerGone } from '../shared/cancel.js';
import { checkBody } from '../shared/contract.js';
import { parseJsonBody } from '../shared/json-body.js';
import { readBodyText, repeatMissOf } from './body-limit.js';
import { decisionJson, JSON_TYPE, statusOf } from './render.js';
import { toEntities, type IsAuthorizedBody } from './wire.js';

/**
 * `POST /v1/is-authorized`: an explicit principal, for trusted local callers and for testing
 * policies. The caller states the principal and its entities; nothing is verified.
 */
const signalOf = (c: Context) => {
  const signal = callerGone(c);
  return signal ? { signal } : {};
};

export function mountIsAuthorized(app: Hono, pipeline: Pipeline): void {
  app.post('/v1/is-authorized', async (c) => {
    const text = await readBodyText(c);
    // A byte-identical repeat is answered before the body is parsed (no caller to verify).
    const decision = await pipeline.decideRaw(
      { door: 'is-authorized', text },
      null,
      () => {
        const body = checkBody<IsAuthorizedBody>('IsAuthorizedRequest', parseJsonBody(text));
        return {
          subject: { kind: 'principal', principal: body.principal },
          store: body.store,
          action: body.action,
          resource: body.resource,
          context: body.context ?? {},
          entities: toEntities(body.entities),
          ...(body.explain ? { explain: true } : {}),
          ...signalOf(c),
        };
      },
      repeatMissOf(c),
    );
    return c.body(decisionJson(decision, false), statusOf(decision), JSON_TYPE);
  });
}
