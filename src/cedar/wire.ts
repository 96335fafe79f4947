import { z } from 'zod';

/**
 * Cedar's JSON forms of entity uids, entities and context, as zod schemas: the HTTP doors, the store
 * loader (entities.json) and the tests.yaml runner parse them the same way. Strict: an unknown field
 * is an error, not ignored.
 */

export const EntityUidWire = z.strictObject({
  type: z.string().min(1),
  id: z.string(),
});

export const CedarValueWire = z.json();

export const EntityWire = z.strictObject({
  uid: EntityUidWire,
  attrs: z.record(z.string(), CedarValueWire).default({}),
  parents: z.array(EntityUidWire).default([]),
  tags: z.record(z.string(), CedarValueWire).optional(),
});

export const ContextWire = z.record(z.string(), CedarValueWire).default({});
export const EntitiesWire = z.array(EntityWire).default([]);
