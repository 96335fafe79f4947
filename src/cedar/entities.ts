/**
 * Entity data as the evaluator sees it during one request.
 *
 * `EntityStore` indexes a store's static entities (and action entities with the action hierarchy,
 * which the schema supplies) once: a Map by uid key and, per entity, the transitive set of
 * ancestor keys, so `in` is one Set lookup. `store.view(requestEntities)` layers a request's own
 * entities on top without copying the static map: with none it returns a shared view; with a few
 * it builds a small overlay whose ancestor sets are computed through the static hierarchy too.
 *
 * Duplicates: within one list, and between a request entity and a static one, an exact duplicate
 * is accepted (ignored) and a differing entity with the same uid is an error — what cedar-wasm does
 * when both lists are passed as one entities array (`duplicate entity entry`).
 *
 * Cycles in the hierarchy (static, or closed only by request entities) are an error, as in
 * cedar-wasm, with or without a schema.
 *
 * Parents need not exist as entities: `in` follows the edge anyway (Cedar does too). When a request
 * entity defines a uid that static entities name as a parent, static ancestor sets may grow for
 * that request; the view then answers `in` by walking parents (correct, slower, rare).
 */
import { CedarJsonError, dedupEntities, entityDataEquals } from './json-value.js';
import type { EntityData, EntityRef } from './values.js';

export interface EntityNode {
  readonly data: EntityData;
  /** Keys of every strict or non-strict ancestor reachable through parents (never self: cycles are rejected). */
  readonly ancestors: ReadonlySet<string>;
}

export interface EntityView {
  /** The entity with this uid key, or undefined when the request has no data for it. */
  entity(key: string): EntityData | undefined;
  /** Cedar `child in ancestor` for two entity references: reflexive, transitive. */
  isIn(child: EntityRef, ancestor: EntityRef): boolean;
}

function cycleError(key: string): CedarJsonError {
  return new CedarJsonError(
    `transitive closure computation/enforcement error: input graph has a cycle containing vertex \`${key}\``,
  );
}

/**
 * Transitive ancestors for each entity of `list`, parents outside the list resolved through
 * `known` (already-closed ancestor sets). A cycle is an error, as in cedar-wasm (with or without a
 * schema): an entity reaching itself, directly or through `known` sets.
 */
function closeAncestors(
  list: readonly EntityData[],
  known: (key: string) => ReadonlySet<string> | undefined,
): Map<string, EntityNode> {
  const out = new Map<string, EntityNode>();
  const visiting = new Set<string>();
  const own = new Map(list.map((e) => [e.uid.key, e]));
  const visit = (e: EntityData): ReadonlySet<string> => {
    const done = out.get(e.uid.key);
    if (done !== undefined) return done.ancestors;
    visiting.add(e.uid.key);
    const anc = new Set<string>();
    for (const p of e.parents) {
      if (visiting.has(p.key)) throw cycleError(p.key);
      anc.add(p.key);
      const pe = own.get(p.key);
      const pa = pe !== undefined ? visit(pe) : known(p.key);
      if (pa !== undefined) for (const k of pa) anc.add(k);
    }
    if (anc.has(e.uid.key)) throw cycleError(e.uid.key);
    visiting.delete(e.uid.key);
    out.set(e.uid.key, { data: e, ancestors: anc });
    return anc;
  };
  for (const e of list) visit(e);
  return out;
}

export class EntityStore {
  private readonly nodes: Map<string, EntityNode>;
  /** Parent keys named by static entities that have no static entity. */
  private readonly dangling = new Set<string>();
  private readonly staticView: EntityView;

  constructor(entities: readonly EntityData[], actions: readonly EntityData[] = []) {
    const all = dedupEntities([...actions, ...entities]);
    this.nodes = closeAncestors(all, () => undefined);
    for (const e of all) for (const p of e.parents) if (!this.nodes.has(p.key)) this.dangling.add(p.key);
    const nodes = this.nodes;
    this.staticView = {
      entity: (key) => nodes.get(key)?.data,
      isIn: (c, a) => c.key === a.key || nodes.get(c.key)?.ancestors.has(a.key) === true,
    };
  }

  get size(): number {
    return this.nodes.size;
  }

  node(key: string): EntityNode | undefined {
    return this.nodes.get(key);
  }

  /** The view for one request: static entities plus the request's own (may be empty). */
  view(requestEntities: readonly EntityData[] = []): EntityView {
    if (requestEntities.length === 0) return this.staticView;
    const nodes = this.nodes;
    const fresh: EntityData[] = [];
    let widens = false;
    for (const e of dedupEntities(requestEntities)) {
      const prev = nodes.get(e.uid.key);
      if (prev !== undefined) {
        if (!entityDataEquals(prev.data, e))
          throw new CedarJsonError(`duplicate entity entry \`${e.uid.key}\``);
        continue;
      }
      if (this.dangling.has(e.uid.key)) widens = true;
      fresh.push(e);
    }
    if (fresh.length === 0) return this.staticView;
    const overlay = closeAncestors(fresh, (k) => nodes.get(k)?.ancestors);
    const entity = (key: string): EntityData | undefined => (overlay.get(key) ?? nodes.get(key))?.data;
    if (!widens)
      return {
        entity,
        isIn: (c, a) =>
          c.key === a.key || (overlay.get(c.key) ?? nodes.get(c.key))?.ancestors.has(a.key) === true,
      };
    return {
      entity,
      isIn: (c, a) => {
        if (c.key === a.key) return true;
        const seen = new Set<string>();
        const stack: EntityRef[] = [c];
        while (stack.length > 0) {
          const e = entity(stack.pop()!.key);
          if (e === undefined) continue;
          for (const p of e.parents) {
            if (p.key === a.key) return true;
            if (!seen.has(p.key)) {
              seen.add(p.key);
              stack.push(p);
            }
          }
        }
        return false;
      },
    };
  }
}
