import { StartupError } from '../core/errors.js';
import type { EntityUid } from '../cedar/types.js';

/**
 * An entity uid from the command line, in Cedar's syntax (`Payments::User::"alice"`, the id a
 * quoted string with Cedar's escapes) or as JSON (`{"type": "Payments::User", "id": "alice"}`).
 */
export function parseUid(text: string, what: string): EntityUid {
  const t = text.trim();
  if (t.startsWith('{')) {
    try {
      const v = JSON.parse(t) as Partial<EntityUid>;
      if (typeof v.type === 'string' && typeof v.id === 'string') return { type: v.type, id: v.id };
    } catch {
      /* reported below */
    }
    throw new StartupError(`--${what}: expected {"type": …, "id": …}, got ${t}`);
  }
  const m = /^((?:[A-Za-z_][A-Za-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*)::("(?:[^"\\]|\\.)*")$/.exec(t);
  if (!m)
    throw new StartupError(`--${what}: expected an entity like Type::"id" (Namespace::Type::"id"), got ${t}`);
  try {
    // Cedar's string escapes are a superset of what JSON needs here (\" \\ \n \t \u{…}).
    const id = JSON.parse(
      m[2]!.replace(/\\u\{([0-9a-fA-F]{1,6})\}/g, (_, h: string) => `\\u${h.padStart(4, '0')}`),
    );
    return { type: m[1]!, id: id as string };
  } catch {
    throw new StartupError(`--${what}: the id ${m[2]} is not a valid quoted string`);
  }
}
