/**
 * Schema-directed data parsing for the conformance runner, from `src/cedar/schema/` (entities
 * conformed to the schema with the schema's action entities added; contexts parsed by the action's
 * context type; request checks when `validateRequest` is on) — what cedar-wasm does with a schema.
 */
import { checkRequest, compileSchema, defaultExtensions, parseEntities } from '../schema/index.js';
import type { DataMode } from './modes.js';

export const schemaMode: DataMode = {
  name: 'schema',
  prepare: (schemaText) => {
    const schema = compileSchema(schemaText, defaultExtensions);
    return {
      entities: (json) => parseEntities(schema, json),
      request: (r, validateRequest) => checkRequest(schema, r, { validateRequest }),
    };
  },
};
