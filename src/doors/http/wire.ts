import { z } from 'zod';
import { CedarValueWire, ContextWire, EntitiesWire, EntityUidWire } from '../../cedar/wire.js';

/** Wire schemas shared by the HTTP doors. Strict: an unknown field is a 400, not ignored. */

export const IsAuthorizedBody = z.strictObject({
  store: z.string().min(1),
  principal: EntityUidWire,
  action: EntityUidWire,
  resource: EntityUidWire,
  context: ContextWire,
  entities: EntitiesWire,
});
export type IsAuthorizedBody = z.infer<typeof IsAuthorizedBody>;

/** A resource with its attributes inline (the common case), as `/v1/authorize` takes it. */
export const ResourceWire = z.strictObject({
  type: z.string().min(1),
  id: z.string(),
  attributes: z.record(z.string(), CedarValueWire).optional(),
  parents: z.array(EntityUidWire).optional(),
});

const AuthorizeItem = {
  action: EntityUidWire,
  resource: ResourceWire,
  context: ContextWire,
  entities: EntitiesWire,
};

export const AuthorizeBody = z.strictObject({ ...AuthorizeItem, token: z.string().optional() });
export type AuthorizeBody = z.infer<typeof AuthorizeBody>;

export const AuthorizeBatchBody = z.strictObject({
  token: z.string().optional(),
  items: z.array(z.strictObject(AuthorizeItem)).min(1),
});
export type AuthorizeItem = z.infer<typeof AuthorizeBatchBody>['items'][number];
