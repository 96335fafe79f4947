import { StartupError } from '../core/errors.js';
import type { LoadedConfig } from './load.js';
import type { Config } from './schema.js';

/**
 * Checks across config sections that need what the config names to exist (stores, issuers), and
 * what one section derives from others. The wiring (server.ts) calls them once stores are built.
 */

/**
 * The caller types that get their own `caller_type` label value: `user`, `service` and every type
 * the config names (issuers' user types and rules, routes). Any other is counted as `other`.
 */
export function knownCallerTypes(config: Config): string[] {
  return [
    ...new Set([
      'user',
      'service',
      ...config.issuers.flatMap((i) => [i.userCallerType, ...i.callerTypeRules.map((r) => r.callerType)]),
      ...config.routes.flatMap((r) => (r.callerType ? [r.callerType] : [])),
    ]),
  ];
}

/** A route to a store or issuer that does not exist is a config error, not a silent DENY later. */
export function checkRoutes(loaded: LoadedConfig, stores: { get(name: string): unknown }): void {
  const issuers = new Set(loaded.config.issuers.map((i) => i.name));
  const problems: string[] = [];
  loaded.config.routes.forEach((r, i) => {
    if (r.store !== undefined && !stores.get(r.store))
      problems.push(`- key "routes.${i}.store": no policy store named "${r.store}"`);
    if (r.issuer !== undefined && !issuers.has(r.issuer))
      problems.push(`- key "routes.${i}.issuer": no issuer named "${r.issuer}"`);
  });
  const { httpRoutes, authzen } = loaded.config;
  if (httpRoutes?.store && !stores.get(httpRoutes.store))
    problems.push(`- key "httpRoutes.store": no policy store named "${httpRoutes.store}"`);
  if (authzen.store && !stores.get(authzen.store))
    problems.push(`- key "authzen.store": no policy store named "${authzen.store}"`);
  const seen = new Set<string>();
  loaded.config.issuers.forEach((iss, i) => {
    if (seen.has(iss.issuer))
      problems.push(`- key "issuers.${i}.issuer": "${iss.issuer}" is configured twice`);
    seen.add(iss.issuer);
  });
  if (problems.length)
    throw new StartupError(
      `invalid configuration in ${loaded.file ?? 'the given config'}:\n${problems.join('\n')}`,
    );
}
