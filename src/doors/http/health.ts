import type { Hono } from 'hono';
import type { StoreRegistry } from '../../policy/registry.js';

/** Readiness of something besides the stores (issuers, sync engines). */
export interface ReadinessCheck {
  name: string;
  check(): { ready: boolean; detail?: Record<string, unknown> };
}

/** `/healthz`: the process answers. `/readyz`: every store loaded (and every check ready), with detail. */
export function mountHealth(app: Hono, stores: StoreRegistry, checks: ReadinessCheck[] = []): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const storeStatuses = stores.statuses();
    const results = checks.map((k) => ({ name: k.name, ...k.check() }));
    const ready = storeStatuses.every((s) => s.ready) && results.every((r) => r.ready);
    return c.json(
      { ready, stores: storeStatuses, ...(results.length ? { checks: results } : {}) },
      ready ? 200 : 503,
    );
  });
}
