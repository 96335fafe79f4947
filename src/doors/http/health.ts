import type { Hono } from 'hono';
import type { ReadinessCheck } from '../../core/health.js';
import type { StoreRegistry } from '../../engines/registry.js';

/**
 * `/healthz`: the process answers. `/readyz`: every store loaded (and every check ready), with
 * detail; from the first moment of a shutdown, 503 with `draining: true`.
 */
export function mountHealth(
  app: Hono,
  stores: StoreRegistry,
  checks: ReadinessCheck[] = [],
  draining: () => boolean = () => false,
): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const storeStatuses = stores.statuses();
    const results = checks.map((k) => ({ name: k.name, ...k.check() }));
    const isDraining = draining();
    const ready = !isDraining && storeStatuses.every((s) => s.ready) && results.every((r) => r.ready);
    return c.json(
      {
        ready,
        ...(isDraining ? { draining: true } : {}),
        stores: storeStatuses,
        ...(results.length ? { checks: results } : {}),
      },
      ready ? 200 : 503,
    );
  });
}
