/** Cedar's JSON shapes, as the sidecar passes them to engines. */

/** An entity reference: `Payments::User::"alice"` is `{ type: 'Payments::User', id: 'alice' }`. */
export interface EntityUid {
  type: string;
  id: string;
}

/** A Cedar value in Cedar's JSON format (entity refs as `{__entity}`, extensions as `{__extn}`). */
export type CedarValue = boolean | number | string | null | CedarValue[] | { [key: string]: CedarValue };

/** An entity in Cedar's JSON entity format. */
export interface Entity {
  uid: EntityUid;
  attrs: Record<string, CedarValue>;
  parents: EntityUid[];
  tags?: Record<string, CedarValue>;
}

export function uidKey(uid: EntityUid): string {
  return `${uid.type}::${JSON.stringify(uid.id)}`;
}

export function sameUid(a: EntityUid, b: EntityUid): boolean {
  return a.type === b.type && a.id === b.id;
}
