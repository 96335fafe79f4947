import { z } from 'zod';

/** Wire schemas shared by the HTTP doors. Strict: an unknown field is a 400, not ignored. */

export const EntityUidWire = z.strictObject({
  type: z.string().min(1),
  id: z.string(),
});

const CedarValueWire = z.json();

export const EntityWire = z.strictObject({
  uid: EntityUidWire,
  attrs: z.record(z.string(), CedarValueWire).default({}),
  parents: z.array(EntityUidWire).default([]),
  tags: z.record(z.string(), CedarValueWire).optional(),
});

export const ContextWire = z.record(z.string(), CedarValueWire).default({});
export const EntitiesWire = z.array(EntityWire).default([]);

export const IsAuthorizedBody = z.strictObject({
  store: z.string().min(1),
  principal: EntityUidWire,
  action: EntityUidWire,
  resource: EntityUidWire,
  context: ContextWire,
  entities: EntitiesWire,
});
export type IsAuthorizedBody = z.infer<typeof IsAuthorizedBody>;
