import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { describe, expect, it } from 'vitest';
import { httpMetrics, UNMATCHED_ROUTE } from './metrics.js';

function app() {
  const seen: string[] = [];
  const a = new Hono();
  a.use(
    '*',
    httpMetrics((route, method, status) => seen.push(`${method} ${route} ${status}`)),
  );
  a.use('*', bodyLimit({ maxSize: 10, onError: (c) => c.text('too large', 413) }));
  a.use('/v1/*', async (_c, next) => next());
  a.get('/users/:id', (c) => c.text('user'));
  a.post('/v1/things', async (c) => c.text(await c.req.text()));
  a.all('/ext-authz/*', (c) => c.text('checked'));
  a.get('/boom', () => {
    throw new Error('boom');
  });
  a.onError((_err, c) => c.text('failed', 500));
  return { a, seen };
}

describe('HTTP request metrics', () => {
  it('labels requests by route pattern and final status, never by raw path', async () => {
    const { a, seen } = app();
    await a.request('/users/alice-123');
    await a.request('/v1/things', { method: 'POST', body: 'ok' });
    await a.request('/v1/things', { method: 'POST', body: 'x'.repeat(100) });
    await a.request('/ext-authz/accounts/acme-ops', { method: 'DELETE' });
    await a.request('/no/such/path/acme-ops');
    await a.request('/users/alice-123', { method: 'PUT' });
    await a.request('/boom');
    expect(seen).toEqual([
      'GET /users/:id 200',
      'POST /v1/things 200',
      'POST /v1/things 413',
      'DELETE /ext-authz/* 200',
      `GET ${UNMATCHED_ROUTE} 404`,
      `PUT ${UNMATCHED_ROUTE} 404`,
      'GET /boom 500',
    ]);
  });
});
