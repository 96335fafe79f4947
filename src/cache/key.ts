import { hash } from 'node:crypto';
import type { EngineRequest } from '../core/engine.js';

/**
 * JSON with object keys sorted at every level, so two requests that differ only in key order give
 * the same text. Array order is kept: Cedar sets are unordered, but treating `[a, b]` and `[b, a]` as
 * different only costs a cache miss, never a wrong answer. `undefined` members are left out, as
 * `JSON.stringify` does.
 *
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      return 'null';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 1) keys.sort();
  let out = '{';
  let sep = '';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += sep + JSON.stringify(k) + ':' + canonicalJson(v);
    sep = ',';
  }
  return out + '}';
}

/**
 * The decision cache key: sha256 (base64) over everything a decision depends on — store name and
 * version, principal, action, resource, context and every entity passed to the engine (for token
 * callers these include the principal and its groups as derived from the token), plus the raw
 * token for an engine that maps tokens itself (hashed, never kept). Entities are
 * order-insensitive: each is canonicalised and the list sorted. Hashing keeps a key at 44 bytes
 * whatever the size of the request.
 */
export function decisionKey(store: string, storeVersion: string, request: EngineRequest): string {
  const entities = request.entities.map(canonicalJson).sort();
  // An engine that maps the token itself (AVP with-token) may read claims the sidecar does not map:
  // the token is then part of what the decision depends on. It only enters the hash.
  const token = request.token
    ? `,${JSON.stringify(request.token.use)},${JSON.stringify(request.token.value)}`
    : '';
  const text =
    `[${JSON.stringify(store)},${JSON.stringify(storeVersion)},` +
    `${canonicalJson(request.principal)},${canonicalJson(request.action)},` +
    `${canonicalJson(request.resource)},${canonicalJson(request.context)},[${entities.join(',')}]${token}]`;
  return hash('sha256', text, 'base64');
}
