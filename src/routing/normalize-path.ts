/**
 * Request-target normalisation for route matching. The goal is that no spelling of a path reaches
 * a different route than the path it means, so no encoding is a way around a rule:
 *
 * - percent-encoded unreserved characters are decoded (`%61` → `a`, `%2E` → `.`), other escapes
 *   are upper-cased; a malformed escape is rejected;
 * - empty segments are dropped (`//` is `/`, and a trailing `/` is ignored);
 * - `.` and `..` segments are resolved after that decoding (so `%2e%2e` is `..`); a `..` that
 *   would climb above the root is rejected rather than clamped;
 * - rejected outright, because servers disagree on what they mean: an encoded slash (`%2F`) or
 *   NUL (`%00`) anywhere in the path, a backslash (raw or `%5C`), control characters, and a dot
 *   segment with a `;` parameter (`..;`, which Tomcat-style servers read as `..`).
 *
 * An absolute-form target (`http://host/path`, as nginx's `$request_uri` can hold) is reduced to
 * its path. The query string is parsed with form rules (`+` is a space).
 */

export interface NormalizedTarget {
  /** The normalised path, e.g. `/accounts/acme%20ops`. */
  path: string;
  /** Fully decoded path segments, e.g. `['accounts', 'acme ops']`. */
  segments: string[];
  /** Decoded query parameters; a repeated name keeps all its values in order. */
  query: Map<string, string[]>;
}

export type NormalizeResult = { ok: true; target: NormalizedTarget } | { ok: false; problem: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;

export function normalizeTarget(raw: string): NormalizeResult {
  let target = raw;
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (absolute) target = target.slice(absolute[0].length) || '/';
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const rawQuery = q >= 0 ? target.slice(q + 1) : '';

  if (!rawPath.startsWith('/')) return fail('the path does not start with /');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rawPath)) return fail('the path contains control characters');
  if (rawPath.includes('\\') || /%5c/i.test(rawPath)) return fail('the path contains a backslash');
  if (/%2f/i.test(rawPath)) return fail('the path contains an encoded slash (%2F)');
  if (/%00/.test(rawPath)) return fail('the path contains an encoded NUL (%00)');
  if (/%(?![0-9A-Fa-f]{2})/.test(rawPath)) return fail('the path contains a malformed percent-escape');

  const canonical = rawPath.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });

  const stack: string[] = [];
  for (const segment of canonical.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (stack.length === 0) return fail('the path climbs above the root');
      stack.pop();
      continue;
    }
    const beforeParams = segment.split(';', 1)[0];
    if (segment.includes(';') && (beforeParams === '.' || beforeParams === '..'))
      return fail('the path has a dot segment with parameters');
    stack.push(segment);
  }

  const segments: string[] = [];
  for (const segment of stack) {
    try {
      segments.push(decodeURIComponent(segment));
    } catch {
      return fail('the path is not valid percent-encoded UTF-8');
    }
  }

  const query = new Map<string, string[]>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq >= 0 ? pair.slice(0, eq) : pair;
    const rawValue = eq >= 0 ? pair.slice(eq + 1) : '';
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      return fail('the query string is not valid percent-encoded UTF-8');
    }
    if (name === '') continue;
    query.set(name, [...(query.get(name) ?? []), value]);
  }

  return { ok: true, target: { path: `/${stack.join('/')}`, segments, query } };
}

function fail(problem: string): NormalizeResult {
  return { ok: false, problem };
}
