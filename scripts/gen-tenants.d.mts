/** Types of scripts/gen-tenants.mjs, for the TypeScript tests that import it. */
import type { EntityUid, Entity, CedarValue } from '../src/cedar/types.js';

export interface GeneratedStore {
  dir: string;
  tenants: number;
  staticPolicies: number;
  templates: number;
  links: number;
  entities: number;
}

export interface Rng {
  next(): number;
  int(n: number): number;
  chance(p: number): boolean;
  pick<X>(list: X[]): X;
}

export interface SampledRequest {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
  entities: Entity[];
}

export function tenantId(i: number): string;
export function generateTenantStore(
  dir: string,
  options: { tenants: number; schema?: boolean; staticHierarchy?: boolean; tenantPolicies?: boolean },
): GeneratedStore;
export function rng(seed: number): Rng;
export function sampleRequest(
  r: Rng,
  tenants: number,
  options?: { mix?: 'realistic' | 'edge'; staticHierarchy?: boolean },
): SampledRequest;
