import { uidKey, type EntityUid } from '../../cedar/types.js';
import type { EngineRequest } from '../../core/engine.js';
import { asUid, collectRefs, keyOf } from './uid.js';
import type { ScopeInput } from './scope.js';
import type { Entity } from '../../cedar/types.js';

/**
 * Deliberate mistakes, for tests only: they prove the differential test notices a slicer that
 * leaves out policies it must not.
 */
export interface SliceFaults {
  /** Forget that an action is in its groups (`action in Group` sliced as if false). */
  ignoreActionGroups?: boolean;
  /** Treat `in` as `==`: no ancestors at all. */
  inAsEquals?: boolean;
}

/** A request's principal, action and resource as scope matching sees them. */
export interface RequestView {
  principal: ScopeInput;
  action: ScopeInput;
  resource: ScopeInput;
}

/**
 * The hierarchy a store version's decisions use: its static entities and, with a schema, the action
 * groups. Per request, `view` adds the request's entities and computes ancestors exactly as Cedar
 * would from the entities passed to it (over-approximating where Cedar would reject the request
 * anyway, e.g. two differing definitions of one entity).
 */
export class EntityGraph {
  /** Static and schema parents by entity key. */
  private readonly parents = new Map<string, string[]>();
  /** Static entities by key, with the keys they lead to (parents and entity references in attributes/tags). */
  private readonly statics = new Map<string, { entity: Entity; next: string[] }>();

  constructor(
    staticEntities: Entity[],
    actionParents: Map<string, string[]>,
    private readonly faults: SliceFaults = {},
  ) {
    for (const [k, v] of actionParents) this.parents.set(k, [...v]);
    for (const entity of staticEntities) {
      const key = keyOf(entity.uid);
      if (!key) continue;
      const parentKeys = (entity.parents ?? []).map(keyOf).filter((k): k is string => k !== undefined);
      this.parents.set(key, [...(this.parents.get(key) ?? []), ...parentKeys]);
      const refs = new Set(parentKeys);
      collectRefs(entity.attrs, refs);
      collectRefs(entity.tags, refs);
      const prior = this.statics.get(key);
      this.statics.set(key, {
        entity,
        next: prior ? [...new Set([...prior.next, ...refs])] : [...refs],
      });
    }
  }

  get staticCount(): number {
    return this.statics.size;
  }

  /**
   * The request's view, or undefined when a uid in it is in no form this code knows (Cedar will
   * most likely reject such a request; the caller then evaluates every policy to be sure).
   */
  view(request: EngineRequest): RequestView | undefined {
    const requestParents = new Map<string, string[]>();
    for (const e of request.entities) {
      const key = keyOf(e?.uid);
      if (!key) return undefined;
      const list = requestParents.get(key) ?? [];
      for (const p of e.parents ?? []) {
        const pk = keyOf(p);
        if (!pk) return undefined;
        list.push(pk);
      }
      requestParents.set(key, list);
    }
    const principal = asUid(request.principal);
    const action = asUid(request.action);
    const resource = asUid(request.resource);
    if (!principal || !action || !resource) return undefined;
    return {
      principal: this.input(principal, requestParents, this.faults.inAsEquals),
      action: this.input(action, requestParents, this.faults.inAsEquals || this.faults.ignoreActionGroups),
      resource: this.input(resource, requestParents, this.faults.inAsEquals),
    };
  }

  private input(uid: EntityUid, requestParents: Map<string, string[]>, selfOnly?: boolean): ScopeInput {
    const key = uidKey(uid);
    const within = new Set([key]);
    if (!selfOnly) {
      const queue = [key];
      for (let i = 0; i < queue.length; i++) {
        const k = queue[i]!;
        for (const list of [requestParents.get(k), this.parents.get(k)]) {
          if (!list) continue;
          for (const p of list) {
            if (within.has(p)) continue;
            within.add(p);
            queue.push(p);
          }
        }
      }
    }
    return { key, type: uid.type, within };
  }

  /**
   * The static entities a decision can reach: from the request's principal, action, resource,
   * context and entities, and the entity literals of the policies evaluated, following parents
   * and entity references in attributes and tags. Cedar reads an entity only when an expression
   * yields it, and every entity value comes from one of these, so the others cannot change the
   * answer.
   */
  reachableStatics(request: EngineRequest, literals: Iterable<string>): Entity[] {
    if (this.statics.size === 0) return [];
    const seen = new Set<string>();
    const queue: string[] = [];
    const visit = (k: string | undefined) => {
      if (k !== undefined && !seen.has(k)) {
        seen.add(k);
        queue.push(k);
      }
    };
    visit(keyOf(request.principal));
    visit(keyOf(request.action));
    visit(keyOf(request.resource));
    const refs = new Set<string>();
    collectRefs(request.context, refs);
    for (const e of request.entities) {
      visit(keyOf(e.uid));
      for (const p of e.parents ?? []) visit(keyOf(p));
      collectRefs(e.attrs, refs);
      collectRefs(e.tags, refs);
    }
    for (const k of refs) visit(k);
    for (const k of literals) visit(k);
    const out: Entity[] = [];
    for (let i = 0; i < queue.length; i++) {
      const found = this.statics.get(queue[i]!);
      if (!found) continue;
      out.push(found.entity);
      for (const n of found.next) visit(n);
    }
    return out;
  }
}
