import { describe, expect, it } from 'vitest';
import { ExtAuthzSchema } from '../../config/doors.js';
import type { Decision } from '../../core/decision.js';
import { checkResponseFrom } from '../grpc/check.js';
import { bearerFrom } from '../shared/bearer.js';
import { toDecisionRequest } from './request.js';
import { headerSafe, toVerdict } from './response.js';

const headers = ExtAuthzSchema.parse({}).upstreamHeaders;
const decision = (d: Partial<Decision>): Decision => ({
  decision: 'DENY',
  decisionId: 'd-1',
  determiningPolicies: [],
  errors: [],
  cached: false,
  ...d,
});

describe('proxy verdicts', () => {
  it('ALLOW carries the principal, caller type and decision id for the upstream', () => {
    const v = toVerdict(
      decision({ decision: 'ALLOW', principal: { type: 'Ns::User', id: 'p|ünï"x' }, callerType: 'user' }),
      headers,
    );
    expect(v).toMatchObject({ allow: true, status: 200 });
    expect(v.upstreamHeaders).toEqual({
      'x-authz-principal': 'Ns::User::"p|\\u00fcn\\u00ef\\"x"',
      'x-authz-caller-type': 'user',
      'x-authz-decision-id': 'd-1',
    });
  });

  it('a token failure is 401 with a challenge; a missing token has no error code', () => {
    expect(toVerdict(decision({ reason: 'expired', message: 'm' }), headers)).toMatchObject({
      status: 401,
      responseHeaders: { 'www-authenticate': 'Bearer realm="authz-sidecar", error="invalid_token"' },
    });
    expect(
      toVerdict(decision({ reason: 'missing_token' }), headers).responseHeaders['www-authenticate'],
    ).toBe('Bearer realm="authz-sidecar"');
  });

  it('every other deny is 403, evaluated or not', () => {
    for (const reason of [undefined, 'no_route', 'invalid_request', 'engine_error', 'no_store'] as const)
      expect(toVerdict(decision(reason ? { reason } : {}), headers).status).toBe(403);
  });

  it('renders the gRPC CheckResponse with append false on every header', () => {
    const ok = checkResponseFrom(toVerdict(decision({ decision: 'ALLOW' }), headers));
    expect(ok).toEqual({
      status: { code: 0 },
      ok_response: {
        headers: [{ header: { key: 'x-authz-decision-id', value: 'd-1' }, append: { value: false } }],
      },
    });
    const denied = checkResponseFrom(toVerdict(decision({ reason: 'expired' }), headers));
    expect(denied).toMatchObject({ status: { code: 7 }, denied_response: { status: { code: 401 } } });
  });

  it('headerSafe leaves printable ASCII alone and escapes the rest', () => {
    expect(headerSafe('a b~')).toBe('a b~');
    expect(headerSafe('a\r\nb\u0000é')).toBe('a\\u000d\\u000ab\\u0000\\u00e9');
  });
});

describe('proxy requests', () => {
  it('takes only a Bearer token from Authorization', () => {
    expect(bearerFrom('Bearer abc')).toBe('abc');
    expect(bearerFrom('bearer  abc ')).toBe('abc');
    expect(bearerFrom('Basic abc')).toBeUndefined();
    expect(bearerFrom('Bearer a b')).toBeUndefined();
    expect(bearerFrom(undefined)).toBeUndefined();
  });

  it('without a route table every request is rejected with no_route, still identified', () => {
    const r = toDecisionRequest(undefined, { method: 'GET', target: '/x', authorization: 'Bearer t' });
    expect(r).toMatchObject({ subject: { kind: 'token', token: 't' }, reject: { reason: 'no_route' } });
  });

  it('a missing original method or URI is rejected as invalid', () => {
    const routes = {
      namespace: 'Api',
      map: () => ({ ok: false as const, reason: 'no_route' as const, message: '' }),
    };
    expect(
      toDecisionRequest(routes, { method: undefined, target: '/x', authorization: undefined }),
    ).toMatchObject({
      reject: { reason: 'invalid_request' },
    });
  });
});

describe('extAuthz config', () => {
  it('refuses an nginx path under the Envoy prefix', () => {
    expect(ExtAuthzSchema.safeParse({ pathPrefix: '/authz', authRequestPath: '/authz/nginx' }).success).toBe(
      false,
    );
    expect(ExtAuthzSchema.safeParse({ pathPrefix: '/authz', authRequestPath: '/authz-nginx' }).success).toBe(
      true,
    );
  });
});
