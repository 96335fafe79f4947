import '../../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Entity } from '../../cedar/types.js';
import type { CompiledStore, TemplateLink } from '../../policy/types.js';
import { schemaActionParents } from '../../policy/slicing/action-parents.js';
import { EntityGraph, type SliceFaults } from '../../policy/slicing/entity-graph.js';
import { scopeOf } from '../../policy/slicing/scope.js';
import { SliceIndex, type IndexedPolicy } from '../../policy/slicing/slice-index.js';
import { collectRefs } from '../../policy/slicing/uid.js';
import type { EngineRequest } from '../../core/engine.js';
import { SliceCache } from './slice-cache.js';

/** What one decision evaluates: a preparsed policy set and the entities to pass with the request. */
export type SlicePlan =
  | {
      ok: true;
      policySetId: string;
      /** The store's static entities this decision can reach. */
      entities: Entity[];
      policies: number;
      cache: 'hit' | 'miss';
    }
  | { ok: false; message: string };

interface Entry extends IndexedPolicy {
  link?: TemplateLink;
}

/** Conditions' entity literals of a policy or template in JSON form. */
function literalsOf(json: unknown): string[] {
  const refs = new Set<string>();
  collectRefs((json as { conditions?: unknown } | undefined)?.conditions, refs);
  return [...refs];
}

/**
 * Scope slicing for one store version: the index of its policies, its entity hierarchy and a cache
 * of preparsed slices. A decision evaluates only the policies whose scope matches the request; the
 * others cannot apply (scope checks never error), so the answer — decision, determining policies,
 * errors — is Cedar's answer over the whole set.
 */
export class Slicer {
  readonly index: SliceIndex;
  private readonly graph: EntityGraph;
  private readonly cache: SliceCache;
  private readonly emptyId: string;
  private fullId?: string;

  constructor(
    private readonly compiled: CompiledStore,
    private readonly ids: { prefix: string; full: string },
    cacheSize: number,
    faults: SliceFaults = {},
  ) {
    const entries: Entry[] = [];
    for (const [id, json] of Object.entries(compiled.json.policies))
      entries.push({ id, scope: scopeOf(json), literals: literalsOf(json) });
    const templateLiterals = new Map(
      Object.entries(compiled.json.templates).map(([id, json]) => [id, literalsOf(json)]),
    );
    for (const link of compiled.links)
      entries.push({
        id: link.newId,
        scope: scopeOf(compiled.json.templates[link.templateId], link.values),
        literals: templateLiterals.get(link.templateId) ?? [],
        link,
      });
    this.index = new SliceIndex(entries);
    const actions = compiled.schema === undefined ? new Map() : schemaActionParents(compiled.schema);
    this.graph = new EntityGraph(compiled.entities, actions, faults);
    this.cache = new SliceCache(ids.prefix, cacheSize);
    this.emptyId = `${ids.prefix}:empty`;
    const empty = cedar.preparsePolicySet(this.emptyId, { staticPolicies: {} });
    if (empty.type === 'failure') throw new Error(empty.errors.map((e) => e.message).join('; '));
  }

  get cached(): number {
    return this.cache.size;
  }

  /**
   * The ids of the policies whose scope can match the request (for an evaluator that needs no
   * preparsed set), or undefined when this code cannot read the request (evaluate everything).
   */
  select(request: EngineRequest): string[] | undefined {
    const view = this.graph.view(request);
    if (!view) return undefined;
    return this.index.select(view).map((p) => p.id);
  }

  plan(request: EngineRequest): SlicePlan {
    const view = this.graph.view(request);
    if (!view) return this.everything();
    const selected = this.index.select(view) as Entry[];
    const literals = selected.flatMap((p) => p.literals);
    const entities = this.graph.reachableStatics(request, literals);
    if (selected.length === 0)
      return { ok: true, policySetId: this.emptyId, entities, policies: 0, cache: 'hit' };
    const key = selected.map((p) => p.id).join('\u0000');
    const cached = this.cache.get(key);
    if (cached !== undefined)
      return { ok: true, policySetId: cached, entities, policies: selected.length, cache: 'hit' };
    const added = this.cache.add(key, this.policySet(selected));
    if (!added.ok) return added;
    return { ok: true, policySetId: added.id, entities, policies: selected.length, cache: 'miss' };
  }

  /** A slice in Cedar's JSON form; links keep their template and id, so ids and answers stay Cedar's. */
  private policySet(selected: Entry[]): cedar.PolicySet {
    const staticPolicies: Record<string, cedar.PolicyJson> = {};
    const templates: Record<string, cedar.PolicyJson> = {};
    const templateLinks: TemplateLink[] = [];
    for (const p of selected) {
      if (!p.link) staticPolicies[p.id] = this.compiled.json.policies[p.id]!;
      else {
        templates[p.link.templateId] ??= this.compiled.json.templates[p.link.templateId]!;
        templateLinks.push(p.link);
      }
    }
    return { staticPolicies, templates, templateLinks };
  }

  /** A request this code cannot read: evaluate the whole set (preparsed once, on first need). */
  private everything(): SlicePlan {
    if (this.fullId === undefined) {
      const c = this.compiled;
      const full = cedar.preparsePolicySet(this.ids.full, {
        staticPolicies: c.policies,
        templates: c.templates,
        templateLinks: c.links,
      });
      if (full.type === 'failure')
        return { ok: false, message: full.errors.map((e) => e.message).join('; ') };
      this.fullId = this.ids.full;
    }
    return {
      ok: true,
      policySetId: this.fullId,
      entities: this.compiled.entities,
      policies: this.index.size,
      cache: 'hit',
    };
  }
}
