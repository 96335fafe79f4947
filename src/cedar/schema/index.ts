/**
 * Cedar schema checks in TypeScript, accepting and rejecting what cedar-wasm 4.13 does.
 *
 *   const schema = compileSchema(store.schema);            // once per store version (ms)
 *   const statics = parseEntities(schema, store.entities); // once: data + the schema's actions
 *   // per request (µs):
 *   const req = checkRequest(schema, { principal, action, resource, context }, { validateRequest: true });
 *   const mine = parseEntities(schema, request.entities, { includeActions: false });
 *
 * Everything throws SchemaValidationError (code `invalid_request`) with a located message.
 */
export { compileSchema, CompiledSchema, type EntityTypeCheckers } from './compiled.js';
export { compileSchemaModel, loadSchemaJson } from './compile-schema.js';
export { assertAcyclic, parseEntities, type ParseEntitiesOptions } from './entities.js';
export { checkRequest, type CheckedRequest, type RequestCheckOptions, type RequestJson } from './request.js';
export { SchemaValidationError, type SchemaErrorKind } from './errors.js';
export { CONSTRUCTOR_OF, registryOf, type ExtensionFunction, type ExtensionRegistry } from './extensions.js';
export { compileParser, readEntityUid, type Parser, type ParserEnv } from './parse-value.js';
export type * from './model.js';
export { isActionType, typeName } from './model.js';
export { defaultExtensions } from './default-extensions.js';
export { describeSchema, type DescribedSchema, type DescribedType } from './describe.js';
