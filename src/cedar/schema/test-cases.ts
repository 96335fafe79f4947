/**
 * Shared inputs for the schema unit tests: one schema touching every type, and helpers that build
 * request cases. Each test compares our verdict with cedar-wasm's on the same input.
 */
import type { RequestCase } from '../fuzz/oracle.js';

export const SCHEMA = `
namespace App {
  type Address = { street: String, zip?: Long, geo?: { lat: Long, lon: Long } };
  entity Org;
  entity Team in [Org] = { name: String };
  entity User in [Team] = {
    name: String,
    age?: Long,
    admin?: Bool,
    ip?: ipaddr,
    limit?: decimal,
    since?: datetime,
    ttl?: duration,
    manager?: User,
    friends?: Set<User>,
    tagsList?: Set<String>,
    addr?: Address,
    color?: Color,
    nested?: Set<Set<Long>>,
  } tags String;
  entity Doc = { owner: User, level: Long } tags Set<Long>;
  entity Color enum ["red", "green"];
  action "read";
  action "write" in ["read"];
  action "view" in ["write"] appliesTo {
    principal: [User, Team],
    resource: [Doc],
    context: {
      destinationCountry: String,
      n?: Long,
      ok?: Bool,
      src?: ipaddr,
      amount?: decimal,
      at?: datetime,
      window?: duration,
      who?: User,
      color?: Color,
      list?: Set<Long>,
      addr?: Address,
    }
  };
  action "paint" appliesTo { principal: User, resource: Color };
}
entity Root = { t: App::Team };
action "top" appliesTo { principal: App::User, resource: Root };
`;

export const alice = { type: 'App::User', id: 'alice' };
export const doc = { type: 'App::Doc', id: 'd1' };
export const view = { type: 'App::Action', id: 'view' };

export function req(context: unknown, more: Partial<RequestCase> = {}): RequestCase {
  return { schema: SCHEMA, principal: alice, action: view, resource: doc, context, entities: [], ...more };
}

export function ents(entities: unknown[], more: Partial<RequestCase> = {}): RequestCase {
  return req({ destinationCountry: 'FR' }, { entities, ...more });
}
