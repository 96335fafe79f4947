import { scopeMatches, type Scope } from './scope.js';
import type { RequestView } from './entity-graph.js';

/** A policy the index knows: a static policy or a template-linked one. */
export interface IndexedPolicy {
  id: string;
  scope: Scope;
  /** Entity literals in its conditions (keys), so that the entities they name are passed to Cedar. */
  literals: readonly string[];
}

/** Per scope constraint, the index keys that can select the policy (any one of them suffices). */
function anchorOptions(scope: Scope): string[][] {
  const options: string[][] = [];
  const entity = (tag: string, s: Scope['principal']) => {
    if (s.op === 'eq') options.push([`${tag}=${s.uid}`]);
    else if (s.op === 'in') options.push([`${tag}<${s.uid}`]);
    else if (s.op === 'is') options.push([s.in === undefined ? `${tag}:${s.type}` : `${tag}<${s.in}`]);
  };
  entity('P', scope.principal);
  entity('R', scope.resource);
  const a = scope.action;
  if (a.op === 'eq') options.push([`A=${a.uid}`]);
  else if (a.op === 'in') options.push([...new Set(a.uids.map((u) => `A<${u}`))]);
  return options;
}

/**
 * Policies bucketed by one key of their scope, chosen per policy as the rarest of its constraints
 * (a tenant's group or folder rather than a shared action), plus the unconstrained ones. A request
 * collects the buckets of its own keys — the principal, resource and action with all their
 * ancestors — and keeps the candidates whose whole scope matches exactly.
 */
export class SliceIndex {
  private readonly buckets = new Map<string, number[]>();
  private readonly unconstrained: number[] = [];
  /** Policies in id order: a slice is a sorted list of positions, so its ids come out sorted. */
  private readonly policies: IndexedPolicy[];
  /** True when some policy sits in several buckets (`action in [a, b]`), so candidates need deduplicating. */
  private readonly multiBucket: boolean;

  constructor(policies: IndexedPolicy[]) {
    this.policies = [...policies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const options = this.policies.map((p) => anchorOptions(p.scope));
    const popularity = new Map<string, number>();
    for (const list of options)
      for (const keys of list) for (const k of keys) popularity.set(k, (popularity.get(k) ?? 0) + 1);
    let multi = false;
    options.forEach((list, i) => {
      if (list.length === 0) {
        this.unconstrained.push(i);
        return;
      }
      const cost = (keys: string[]) => keys.reduce((n, k) => n + popularity.get(k)!, 0);
      const best = list.reduce((a, b) => (cost(b) < cost(a) ? b : a));
      if (best.length > 1) multi = true;
      for (const k of best) {
        const bucket = this.buckets.get(k);
        if (bucket) bucket.push(i);
        else this.buckets.set(k, [i]);
      }
    });
    this.multiBucket = multi;
  }

  get size(): number {
    return this.policies.length;
  }

  /** The policies whose scope matches the request, in id order. */
  select(view: RequestView): IndexedPolicy[] {
    const found: number[] = [];
    const seen = this.multiBucket ? new Set<number>() : undefined;
    const take = (bucket: number[] | undefined) => {
      if (!bucket) return;
      for (const i of bucket) {
        if (seen) {
          if (seen.has(i)) continue;
          seen.add(i);
        }
        const p = this.policies[i]!;
        if (scopeMatches(p.scope, view.principal, view.action, view.resource)) found.push(i);
      }
    };
    take(this.unconstrained);
    for (const [tag, input] of [
      ['P', view.principal],
      ['R', view.resource],
    ] as const) {
      take(this.buckets.get(`${tag}=${input.key}`));
      take(this.buckets.get(`${tag}:${input.type}`));
      for (const k of input.within) take(this.buckets.get(`${tag}<${k}`));
    }
    take(this.buckets.get(`A=${view.action.key}`));
    for (const k of view.action.within) take(this.buckets.get(`A<${k}`));
    found.sort((a, b) => a - b);
    return found.map((i) => this.policies[i]!);
  }
}
