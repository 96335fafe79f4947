import type { IncomingMessage } from 'node:http';
import type { Context, Hono } from 'hono';
import { AuthzError } from '../../core/errors.js';
import type { StoreRegistry } from '../../engines/registry.js';

/** Whether the caller is on this machine (127.0.0.0/8, ::1, or IPv4-mapped loopback). */
function fromLoopback(c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const addr = incoming?.socket?.remoteAddress;
  // app.request() in tests has no socket: it is in-process, so local.
  if (addr === undefined) return incoming === undefined;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

/**
 * Discovery, for policy authors and tools: `GET /v1/stores` (every store: name, engine, evaluator,
 * version, policy count, readiness) and `GET /v1/stores/{name}` (that store and its schema: the
 * actions with the principal and resource types they apply to and the context they take; the
 * entity types with their attributes). Like `/v1/is-authorized`, for callers on this machine only:
 * a schema tells an attacker what to forge, so a remote caller gets 403 even when the listener is
 * not on loopback.
 */
export function mountStores(app: Hono, stores: StoreRegistry): void {
  const guard = (c: Context) => {
    if (!fromLoopback(c))
      throw new AuthzError('forbidden', 'Store discovery answers callers on this machine only.');
  };
  const summary = (name: string) => {
    const s = stores.get(name)!.status();
    return {
      name: s.name,
      engine: s.engine,
      ready: s.ready,
      ...(s.evaluator ? { evaluator: s.evaluator } : {}),
      ...(s.version ? { version: s.version } : {}),
      ...(s.policies !== undefined ? { policies: s.policies } : {}),
    };
  };
  app.get('/v1/stores', (c) => {
    guard(c);
    return c.json({ stores: stores.names().map(summary) });
  });
  app.get('/v1/stores/:name', (c) => {
    guard(c);
    const name = c.req.param('name');
    const store = stores.get(name);
    if (!store) throw new AuthzError('unknown_store', `No policy store is named "${name}".`);
    const schema = store.describe?.();
    return c.json({ ...summary(name), ...(schema ? { schema } : {}) });
  });
}
