/**
 * Masking of decision-log fields by path, in pino's redact syntax (`context.accountNumber`,
 * `context.card.*`, `context["x-api-key"]`): the value at each path that exists is replaced by
 * `"***"`. Copy on write: only the objects along a masked path are copied, the request's own
 * objects are never changed (they may still be in the decision cache's hands).
 */

export const CENSOR = '***';

type Segment = string | typeof WILDCARD;
const WILDCARD = Symbol('*');

/** Parses one path; throws Error with the reason when it is not a path pino would accept. */
export function parseMaskPath(path: string): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`"${path}": ${why} at character ${i + 1}`);
  };
  while (i < path.length) {
    if (path[i] === '[') {
      const close = path.indexOf(']', i);
      if (close === -1) fail('unclosed [');
      const inner = path.slice(i + 1, close).trim();
      if (inner === '*') segments.push(WILDCARD);
      else if (/^(["']).*\1$/.test(inner)) segments.push(inner.slice(1, -1));
      else if (/^\d+$/.test(inner)) segments.push(inner);
      else fail('expected a quoted key, an index or * inside []');
      i = close + 1;
      if (i < path.length && path[i] === '.') {
        i++;
        if (i === path.length) fail('a path may not end with .');
      }
      continue;
    }
    const m = /^[A-Za-z_$][\w$-]*|^\*/.exec(path.slice(i));
    if (!m) fail('expected a key');
    segments.push(m![0] === '*' ? WILDCARD : m![0]);
    i += m![0].length;
    if (i < path.length) {
      if (path[i] === '.') {
        i++;
        if (i === path.length || path[i] === '.') fail('empty key');
      } else if (path[i] !== '[') fail('expected . or [');
    }
  }
  if (segments.length === 0) fail('empty path');
  return segments;
}

type Node = Record<string, unknown> | unknown[];

const isNode = (v: unknown): v is Node => v !== null && typeof v === 'object';

function maskAt(node: unknown, segs: Segment[], i: number): unknown {
  if (!isNode(node)) return node;
  const seg = segs[i]!;
  const last = i === segs.length - 1;
  const keys = seg === WILDCARD ? Object.keys(node) : Object.hasOwn(node, seg) ? [seg] : [];
  if (keys.length === 0) return node;
  // Copied only when something below changes: an unchanged node comes back as itself, which is
  // how a reporting masker tells which paths hid a value.
  let copy: Node | undefined;
  for (const k of keys) {
    const child = (node as Record<string, unknown>)[k];
    const masked = last ? CENSOR : maskAt(child, segs, i + 1);
    if (masked === child) continue;
    copy ??= Array.isArray(node) ? [...node] : { ...node };
    (copy as Record<string, unknown>)[k] = masked;
  }
  return copy ?? node;
}

/**
 * A masker for a set of paths, or undefined when there is nothing to mask. Throws on a bad path.
 * A path may carry the name it is reported under (`{ path, name }`). With `report`, a masked
 * value's copy gets `masked`: the names of the paths that hid something, once each.
 */
export function compileMasks(
  paths: (string | { path: string; name: string })[],
  report = false,
): ((value: Record<string, unknown>) => Record<string, unknown>) | undefined {
  if (paths.length === 0) return undefined;
  const parsed = paths.map((p) =>
    typeof p === 'string'
      ? { segs: parseMaskPath(p), name: p }
      : { segs: parseMaskPath(p.path), name: p.name },
  );
  return (value) => {
    let out: unknown = value;
    let masked: string[] | undefined;
    for (const { segs, name } of parsed) {
      const next = maskAt(out, segs, 0);
      // Copy on write: a path that hid something returns a new object.
      if (report && next !== out && !(masked ??= []).includes(name)) masked.push(name);
      out = next;
    }
    // `out` is a copy whenever anything was masked, so setting a key on it changes nothing shared.
    if (masked) (out as Record<string, unknown>).masked = masked;
    return out as Record<string, unknown>;
  };
}
