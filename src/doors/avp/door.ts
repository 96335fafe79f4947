import { Hono, type Context } from 'hono';
import { AuthzError, isTokenErrorCode } from '../../core/errors.js';
import { limitBody, readBodyText } from '../http/body-limit.js';
import type { Logger } from '../../observability/logger.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { Decision, DecisionRequest } from '../../core/decision.js';
import {
  AWS_JSON_CONTENT_TYPE,
  AwsError,
  decodeRequest,
  encodeAnswer,
  encodeUid,
  operationOf,
  parseBody,
  renderAwsError,
  validationError,
  type AvpQuestion,
  type FieldProblem,
  type TokenInput,
} from './codec.js';

export interface AvpDoorDeps {
  pipeline: Pipeline;
  /** AVP policy store id → local store name; an unlisted id selects the store of that name. */
  policyStores: Record<string, string>;
  bodyLimitBytes: number;
  /** Time to receive a request body (`server.requestTimeoutMs`). */
  bodyTimeoutMs?: number;
  logger?: Logger;
}

/**
 * The AVP door: the sidecar speaks Amazon Verified Permissions' data-plane protocol (AWS JSON 1.0,
 * `POST /` with `x-amz-target: VerifiedPermissions.<Operation>`), so code written against the AWS
 * SDK gets local decisions by setting `endpoint` to this listener.
 *
 * It translates only: IsAuthorized / BatchIsAuthorized become pipeline requests with the stated
 * principal; the *WithToken operations become token requests that the pipeline verifies like any
 * other (the configured issuers play AVP's identity source). The SigV4 signature the SDK adds is
 * not checked and proves nothing: the door trusts its caller, which is why it listens on a
 * loopback address only.
 */
export function createAvpDoorApp(deps: AvpDoorDeps): Hono {
  const app = new Hono();
  const respond = (c: Context, status: number, body: unknown) =>
    c.body(JSON.stringify(body), status as 200, { 'content-type': AWS_JSON_CONTENT_TYPE });
  const fail = (c: Context, err: AwsError) => {
    const r = renderAwsError(err);
    return c.body(r.body, r.status as 400, r.headers);
  };

  app.use(
    '*',
    limitBody(deps.bodyLimitBytes, deps.bodyTimeoutMs !== undefined ? { timeoutMs: deps.bodyTimeoutMs } : {}),
  );

  app.post('/', async (c) => {
    const operation = operationOf(c.req.header('x-amz-target'));
    const decoded = decodeRequest(operation, parseBody(await readBodyText(c)));
    // Store resolution is the pipeline's (an unknown store is its `unknown_store` deny, logged and
    // counted like any decision); the door only maps the AVP id to a local name.
    const store = deps.policyStores[decoded.policyStoreId] ?? decoded.policyStoreId;
    const answer = (d: Decision, path: string, token?: TokenInput) =>
      answerOf(d, path, decoded.policyStoreId, token);

    switch (decoded.operation) {
      case 'IsAuthorized': {
        const d = await deps.pipeline.decide(statedRequest(store, decoded.question));
        return respond(c, 200, encodeAnswer(answer(d, '')));
      }
      case 'IsAuthorizedWithToken': {
        const d = await deps.pipeline.decide(tokenRequest(store, decoded.token, decoded.question));
        return respond(c, 200, {
          ...encodeAnswer(answer(d, '', decoded.token)),
          ...(d.principal ? { principal: encodeUid(d.principal) } : {}),
        });
      }
      case 'BatchIsAuthorized':
      case 'BatchIsAuthorizedWithToken': {
        const token = decoded.operation === 'BatchIsAuthorizedWithToken' ? decoded.token : undefined;
        const decisions = await deps.pipeline.decideBatch(
          decoded.questions.map((q) =>
            token ? tokenRequest(store, token, q) : statedRequest(store, q as Required<AvpQuestion>),
          ),
        );
        // AVP validates the whole call: one invalid request fails it, naming the request.
        const problems: FieldProblem[] = [];
        decisions.forEach((d, i) => {
          const problem = problemOf(d, `requests[${i}]`, token);
          if (problem) problems.push(problem);
        });
        if (problems.length) throw validationError(problems);
        const results = decisions.map((d, i) => ({
          request: decoded.echo[i],
          ...encodeAnswer(answer(d, `requests[${i}]`, token)),
        }));
        const principal = decisions.find((d) => d.principal)?.principal;
        return respond(c, 200, {
          ...(token && principal ? { principal: encodeUid(principal) } : {}),
          results,
        });
      }
    }
  });

  app.notFound((c) =>
    fail(c, new AwsError('UnknownOperationException', 'The AVP door answers POST / only.')),
  );
  app.onError((err, c) => {
    if (err instanceof AwsError) return fail(c, err);
    // The shared body limit (`limitBody`, `readBodyText`) speaks the sidecar's errors.
    if (err instanceof AuthzError && err.code === 'body_too_large')
      return fail(c, new AwsError('ValidationException', err.message));
    // A body that never completes: AWS's protocol has no 408 error type; the status says it.
    if (err instanceof AuthzError && err.code === 'request_timeout') {
      const r = renderAwsError(new AwsError('ValidationException', err.message));
      return c.body(r.body, 408, r.headers);
    }
    deps.logger?.error({ err: { message: err.message, name: err.name } }, 'AVP door request failed');
    return fail(c, new AwsError('InternalServerException', 'Internal error; the request is denied.'));
  });
  return app;
}

function statedRequest(
  store: string,
  q: AvpQuestion & { principal: AvpQuestion['principal'] },
): DecisionRequest {
  return {
    subject: { kind: 'principal', principal: q.principal! },
    store,
    action: q.action,
    resource: q.resource,
    context: q.context,
    entities: q.entities,
  };
}

function tokenRequest(store: string, token: TokenInput, q: AvpQuestion): DecisionRequest {
  return {
    subject: { kind: 'token', token: token.value },
    store,
    action: q.action,
    resource: q.resource,
    context: q.context,
    entities: q.entities,
  };
}

/** Why a decision cannot be an AVP answer, as a field problem (invalid input or a bad token). */
function problemOf(d: Decision, path: string, token?: TokenInput): FieldProblem | undefined {
  if (!d.reason) return undefined;
  if (isTokenErrorCode(d.reason))
    return { path: token?.field ?? 'identityToken', message: d.message ?? d.reason };
  if (d.reason === 'invalid_request' || d.reason === 'entity_conflict')
    return { path: path || '(request)', message: d.message ?? d.reason };
  return undefined;
}

/** A decision as an AVP answer, or the AWS error it stands for. */
function answerOf(d: Decision, path: string, policyStoreId: string, token?: TokenInput) {
  if (d.reason === 'unknown_store')
    throw new AwsError('ResourceNotFoundException', `Policy store ${policyStoreId} not found.`, {
      resourceId: policyStoreId,
      resourceType: 'POLICY_STORE',
    });
  const problem = problemOf(d, path, token);
  if (problem) throw validationError([problem]);
  if (d.reason)
    // engine_unavailable, engine_error, no_store, internal_error: the request was not evaluated.
    throw new AwsError('InternalServerException', `The request was not evaluated (${d.reason}).`);
  return { allow: d.decision === 'ALLOW', determiningPolicies: d.determiningPolicies, errors: d.errors };
}
