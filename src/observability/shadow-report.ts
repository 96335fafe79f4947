import type { ShadowSpec } from '../engines/registry.js';
import { createShadowing, type Shadowing } from '../replay/shadow.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * Shadow stores (`stores.<name>.shadow`): counted in authz_shadow_decisions_total, flips and
 * candidate errors in the process log with the decision id, a summary in /readyz.
 */
export function startShadowing(
  targets: ShadowSpec[],
  metrics: Metrics,
  logger: Logger,
): Shadowing | undefined {
  if (!targets.length) return undefined;
  for (const t of targets) {
    for (const result of ['same', 'allow_to_deny', 'deny_to_allow', 'error', 'dropped'])
      metrics.shadowDecision(t.store, result, 0);
    const s = t.engine.status();
    if (s.ready) logger.info({ store: t.store, shadow: t.source, version: s.version }, 'shadow store loaded');
    else
      logger.error(
        { store: t.store, shadow: t.source, error: s.lastError },
        'shadow store does not load; the live store serves as always, nothing is shadowed until it does',
      );
  }
  return createShadowing(targets, {
    result: (store, result) => metrics.shadowDecision(store, result),
    flip: (flip) =>
      logger.warn(
        flip,
        `shadow store decides ${flip.result === 'deny_to_allow' ? 'ALLOW where live denied' : 'DENY where live allowed'}`,
      ),
    error: (store, decisionId, message) =>
      logger.warn({ store, decisionId, error: message }, 'shadow store could not decide'),
  });
}
