/**
 * How the conformance runner turns a test's JSON data into runtime values. Cedar parses entities
 * and contexts with the schema (a context may hold `"0.6"` where the schema says decimal), so the
 * faithful mode is schema-directed (`src/cedar/schema/`); the schemaless mode exists to show which
 * tests fail only for want of schema parsing.
 */
import type { AuthzRequest } from '../authorize.js';
import { entityUidFromJson, parseContextJson, parseEntitiesJson } from '../json-value.js';
import type { EntityData } from '../values.js';

export interface RequestJsonLike {
  principal: unknown;
  action: unknown;
  resource: unknown;
  context: unknown;
}

export interface PreparedData {
  entities(json: unknown): EntityData[];
  request(req: RequestJsonLike, validateRequest: boolean): AuthzRequest;
}

export interface DataMode {
  name: string;
  prepare(schemaText: string): PreparedData;
}

export const schemalessMode: DataMode = {
  name: 'schemaless',
  prepare: () => ({
    entities: (json) => parseEntitiesJson(json),
    request: (r) => ({
      principal: entityUidFromJson(r.principal, 'principal'),
      action: entityUidFromJson(r.action, 'action'),
      resource: entityUidFromJson(r.resource, 'resource'),
      context: parseContextJson(r.context),
    }),
  }),
};
