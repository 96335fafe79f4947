import type { CedarValue, Entity, EntityUid } from '../../cedar/types.js';

/**
 * The HTTP API's request bodies as TypeScript sees them once `checkBody` (doors/shared/contract.ts)
 * has validated them against openapi.yaml. The schemas live in the contract only; these types
 * mirror them. `context` and `entities` may be absent (they default to empty).
 */

export interface IsAuthorizedBody {
  store: string;
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context?: Record<string, CedarValue>;
  entities?: EntityWire[];
  explain?: boolean;
}

/** An entity as the wire carries it: `attrs` and `parents` may be left out. */
export interface EntityWire {
  uid: EntityUid;
  attrs?: Record<string, CedarValue>;
  parents?: EntityUid[];
  tags?: Record<string, CedarValue>;
}

/** A resource with its attributes inline (the common case), as `/v1/authorize` takes it. */
export interface ResourceWire {
  type: string;
  id: string;
  attributes?: Record<string, CedarValue>;
  parents?: EntityUid[];
}

export interface AuthorizeItem {
  action: EntityUid;
  resource: ResourceWire;
  context?: Record<string, CedarValue>;
  entities?: EntityWire[];
}

export interface AuthorizeBody extends AuthorizeItem {
  token?: string;
  explain?: boolean;
}

export interface AuthorizeBatchBody {
  token?: string;
  items: AuthorizeItem[];
  explain?: boolean;
}

/** Wire entities with their defaults filled in, as the pipeline takes them: always a new array. */
export function toEntities(wire: EntityWire[] | undefined): Entity[] {
  if (!wire || wire.length === 0) return [];
  const out: Entity[] = new Array(wire.length);
  for (let i = 0; i < wire.length; i++) {
    const e = wire[i]!;
    out[i] =
      e.attrs && e.parents
        ? (e as Entity)
        : { uid: e.uid, attrs: e.attrs ?? {}, parents: e.parents ?? [], ...(e.tags ? { tags: e.tags } : {}) };
  }
  return out;
}
