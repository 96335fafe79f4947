import type { IncomingMessage } from 'node:http';
import type { ExtAuthzConfig } from '../../config/index.js';
import { writeJson, type FrontMatcher } from '../http/front.js';
import { envoyInput, nginxInput, pinToEnvoyDoor, underPrefix } from './http.js';
import { rawCheck } from './request.js';
import { toVerdict } from './response.js';

/**
 * The proxy doors' part of the repeat fast path (front.ts): Envoy HTTP ext_authz (any method
 * under `pathPrefix`) and nginx `auth_request` (`authRequestPath`), keyed by the original method
 * and target as `rawCheck` keys them, answered with the same verdict as their door. No body is
 * read: the decision never depends on it.
 *
 * Every request under the Envoy prefix is pinned to the Envoy door before it goes on to hono
 * (`pinToEnvoyDoor`), so hono's URL normalisation cannot route `/ext-authz/../healthz` elsewhere.
 */
export function proxyRepeats(config: ExtAuthzConfig): FrontMatcher {
  const prefix = config.pathPrefix;
  const nginxPath = config.authRequestPath;
  const write = (res: Parameters<typeof writeJson>[0], d: Parameters<typeof toVerdict>[0]) => {
    const v = toVerdict(d, config.upstreamHeaders);
    return writeJson(res, v.status, v.body, v.allow ? v.upstreamHeaders : v.responseHeaders);
  };
  const header = (req: IncomingMessage) => (name: string) => {
    const v = req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return (req) => {
    const url = req.url!;
    if (underPrefix(url, prefix)) {
      const exact = url.length === prefix.length || url.charCodeAt(prefix.length) === 63; /* ? */
      return {
        route: exact ? prefix : `${prefix}/*`,
        body: false,
        key: () => rawCheck(envoyInput(prefix, req.method!, url, req.headers.authorization)),
        write,
        beforeFallback: (r) => pinToEnvoyDoor(r, exact ? prefix : `${prefix}/`),
      };
    }
    if (url === nginxPath || (url.startsWith(nginxPath) && url.charCodeAt(nginxPath.length) === 63)) {
      return {
        route: nginxPath,
        body: false,
        key: () => rawCheck(nginxInput(config, header(req), req.headers.authorization)),
        write,
      };
    }
    return undefined;
  };
}
