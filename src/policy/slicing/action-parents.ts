import '../../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { uidKey } from '../../cedar/types.js';

/**
 * The action groups a schema declares: action key → keys of the groups it is directly `in`. With a
 * schema, Cedar builds the action entities from it (a request cannot change them), so these are the
 * parents scope matching must follow.
 *
 * `memberOf` entries without a `type` name an action of the same namespace. One with a `type` may be
 * relative to the namespace or absolute; both readings are kept, since an extra parent can only
 * widen a slice, never narrow it.
 */
export function schemaActionParents(schema: string | Record<string, unknown>): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  const answer = cedar.schemaToJson(schema as cedar.Schema);
  if (answer.type === 'failure') return parents;
  const fragment = answer.json as Record<string, { actions?: Record<string, { memberOf?: unknown }> }>;
  for (const [ns, def] of Object.entries(fragment)) {
    const actionType = ns ? `${ns}::Action` : 'Action';
    for (const [id, action] of Object.entries(def.actions ?? {})) {
      const keys: string[] = [];
      const memberOf = Array.isArray(action.memberOf) ? action.memberOf : [];
      for (const m of memberOf as { id?: unknown; type?: unknown }[]) {
        if (typeof m?.id !== 'string') continue;
        if (typeof m.type !== 'string') keys.push(uidKey({ type: actionType, id: m.id }));
        else {
          keys.push(uidKey({ type: m.type, id: m.id }));
          if (ns) keys.push(uidKey({ type: `${ns}::${m.type}`, id: m.id }));
        }
      }
      parents.set(uidKey({ type: actionType, id }), keys);
    }
  }
  return parents;
}
