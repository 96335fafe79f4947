import { describe, expect, it } from 'vitest';
import { HttpRoutesSchema } from '../config/doors.js';
import { StartupError } from '../core/errors.js';
import { createHttpRouteTable, type RouteMatch } from './http-routes.js';
import { normalizeTarget } from './normalize-path.js';

const table = (raw: Record<string, unknown>) => createHttpRouteTable(HttpRoutesSchema.parse(raw));

const api = table({
  namespace: 'PaymentsApi',
  routes: [
    { method: 'GET', path: '/accounts/{accountId}' },
    { method: 'GET', path: '/accounts/me' },
    { method: 'POST', path: '/payments' },
    { method: 'GET', path: '/payments', query: ['limit'] },
    { method: 'GET', path: '/tenants/{tenantId}/accounts/{accountId}/payments/{paymentId}' },
    { method: 'GET', path: '/admin/settings' },
    { method: '*', path: '/static/{file+}' },
    { method: 'GET', path: '/static/{file+}', action: 'ReadStatic' },
    {
      method: 'GET',
      path: '/tenants/{tenantId}/reports/{reportId}',
      resource: { type: 'Report', idParameter: 'reportId', attributes: { tenantId: 'tenantId' } },
    },
  ],
});

const matched = (m: RouteMatch) => {
  if (!m.ok) throw new Error(`expected a match, got ${m.reason}: ${m.message}`);
  return m;
};
const actionOf = (method: string, target: string) => matched(api.map(method, target)).action.id;

describe('route mapping (AVP API-linked defaults)', () => {
  it('names the action "<lowercase method> <template>" on the application resource', () => {
    const m = matched(api.map('GET', '/accounts/acme-ops'));
    expect(m.action).toEqual({ type: 'PaymentsApi::Action', id: 'get /accounts/{accountId}' });
    expect(m.resource).toEqual({ type: 'PaymentsApi::Application', id: 'PaymentsApi' });
    expect(m.context).toEqual({ pathParameters: { accountId: 'acme-ops' }, queryStringParameters: {} });
    expect(m.entities).toEqual([]);
  });

  it('binds several parameters of one template', () => {
    const m = matched(api.map('GET', '/tenants/acme/accounts/acme-ops/payments/pay-1'));
    expect(m.action.id).toBe('get /tenants/{tenantId}/accounts/{accountId}/payments/{paymentId}');
    expect(m.context.pathParameters).toEqual({ tenantId: 'acme', accountId: 'acme-ops', paymentId: 'pay-1' });
  });

  it('puts the query string in queryStringParameters, limited to the listed names', () => {
    const all = matched(api.map('GET', '/accounts/a1?view=full&x=1+2'));
    expect(all.context.queryStringParameters).toEqual({ view: 'full', x: '1 2' });
    const listed = matched(api.map('GET', '/payments?limit=10&cursor=abc'));
    expect(listed.context.queryStringParameters).toEqual({ limit: '10' });
  });

  it('refuses a repeated query parameter that policies see, but ignores one they do not', () => {
    expect(api.map('GET', '/payments?limit=1&limit=1000')).toMatchObject({
      ok: false,
      reason: 'invalid_request',
    });
    expect(matched(api.map('GET', '/payments?cursor=a&cursor=b')).context.queryStringParameters).toEqual({});
  });

  it('matches methods exactly and prefers a literal segment over a parameter', () => {
    expect(actionOf('post', '/payments')).toBe('post /payments');
    expect(actionOf('GET', '/accounts/me')).toBe('get /accounts/me');
    expect(api.map('DELETE', '/payments')).toMatchObject({ ok: false, reason: 'no_route' });
  });

  it('matches a greedy parameter, with a named method over *', () => {
    const m = matched(api.map('GET', '/static/css/site.css'));
    expect(m.action.id).toBe('ReadStatic');
    expect(m.context.pathParameters).toEqual({ file: 'css/site.css' });
    expect(actionOf('PUT', '/static/a')).toBe('put /static/{file+}');
    expect(api.map('GET', '/static')).toMatchObject({ ok: false, reason: 'no_route' });
  });

  it('builds the resource entity from path parameters when the route says so', () => {
    const m = matched(api.map('GET', '/tenants/acme/reports/r-7'));
    expect(m.resource).toEqual({ type: 'PaymentsApi::Report', id: 'r-7' });
    expect(m.entities).toEqual([{ uid: m.resource, attrs: { tenantId: 'acme' }, parents: [] }]);
  });

  it('denies an unknown route with no_route, or maps it to the configured action', () => {
    expect(api.map('GET', '/nowhere')).toEqual({
      ok: false,
      reason: 'no_route',
      message: expect.any(String),
    });
    const fixed = table({ namespace: 'Api', unmatched: { action: 'unmatched' } });
    expect(fixed.map('GET', '/x/../y?z=1')).toEqual({
      ok: true,
      action: { type: 'Api::Action', id: 'unmatched' },
      resource: { type: 'Api::Application', id: 'Api' },
      context: { method: 'GET', path: '/y' },
      entities: [],
    });
  });
});

describe('normalisation: no encoding is a way around a rule', () => {
  it('decodes percent-encoded parameters and unreserved characters in literals', () => {
    expect(matched(api.map('GET', '/accounts/acme%20ops')).context.pathParameters).toEqual({
      accountId: 'acme ops',
    });
    expect(actionOf('GET', '/%61ccounts/%6De')).toBe('get /accounts/me');
    expect(actionOf('GET', '/acc%6Funts/x')).toBe('get /accounts/{accountId}');
  });

  it('resolves . and .. segments before matching, also when encoded', () => {
    expect(actionOf('GET', '/accounts/acme-ops/../../admin/settings')).toBe('get /admin/settings');
    expect(actionOf('GET', '/accounts/%2e%2e/admin/settings')).toBe('get /admin/settings');
    expect(actionOf('GET', '/accounts/.%2E/admin/./settings')).toBe('get /admin/settings');
    // A parameter can never swallow a dot segment: `/accounts/..` is `/`, which has no route.
    expect(api.map('GET', '/accounts/..')).toMatchObject({ ok: false, reason: 'no_route' });
  });

  it('merges empty segments and ignores a trailing slash', () => {
    expect(actionOf('GET', '//admin///settings/')).toBe('get /admin/settings');
  });

  it('refuses paths that servers disagree about', () => {
    for (const target of [
      '/accounts/a%2Fb',
      '/accounts/a%2fb',
      '/accounts/a%5Cb',
      '/accounts\\..\\admin',
      '/accounts/a%00',
      '/accounts/%zz',
      '/../admin/settings',
      '/accounts/%2e%2e/%2e%2e/etc',
      '/public/..;/admin/settings',
      'admin/settings',
      '/accounts/%C3',
    ]) {
      expect(api.map('GET', target), target).toMatchObject({ ok: false, reason: 'invalid_request' });
    }
  });

  it('reduces an absolute-form target to its path', () => {
    expect(actionOf('GET', 'http://evil.example/admin/settings?x')).toBe('get /admin/settings');
  });

  it('keeps a double-encoded escape as data, decoded once', () => {
    const m = matched(api.map('GET', '/accounts/a%252Fb'));
    expect(m.context.pathParameters).toEqual({ accountId: 'a%2Fb' });
  });

  it('returns the normalised path with non-unreserved escapes upper-cased', () => {
    expect(normalizeTarget('/a/%7e/b%2a/./c/../d?')).toMatchObject({
      ok: true,
      target: { path: '/a/~/b%2A/d', segments: ['a', '~', 'b*', 'd'] },
    });
  });
});

describe('route table config', () => {
  it('names the bad key of every bad template at once', () => {
    let error: unknown;
    try {
      table({
        namespace: 'Api',
        routes: [
          { method: 'GET', path: 'accounts' },
          { method: 'GET', path: '/a/{x}/{x}' },
          { method: 'GET', path: '/a/{rest+}/b' },
          { method: 'GET', path: '/a/{id}' },
          { method: 'GET', path: '/a/{other}' },
          { method: 'GET', path: '/r/{id}', resource: { type: 'R', idParameter: 'nope' } },
          { method: 'GET', path: '/a%2Fb' },
        ],
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StartupError);
    const message = (error as Error).message;
    for (const key of [
      'routes.0.path',
      'routes.1.path',
      'routes.2.path',
      'routes.4"',
      'routes.5.resource',
      'routes.6.path',
    ])
      expect(message).toContain(key);
  });

  it('rejects lower-case methods and defaults unmatched to deny', () => {
    expect(
      HttpRoutesSchema.safeParse({ namespace: 'Api', routes: [{ method: 'get', path: '/' }] }).success,
    ).toBe(false);
    expect(HttpRoutesSchema.parse({ namespace: 'Api' })).toMatchObject({ unmatched: 'deny', routes: [] });
  });
});
