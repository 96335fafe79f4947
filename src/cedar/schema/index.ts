/** Cedar schema checks in TypeScript: compile once per store version, check each request. */
export { compileSchema, CompiledSchema, type EntityTypeCheckers } from './compiled.js';
export { compileSchemaModel, loadSchemaJson } from './compile-schema.js';
export { parseEntities, type ParseEntitiesOptions } from './entities.js';
export { checkRequest, type CheckedRequest, type RequestCheckOptions, type RequestJson } from './request.js';
export { SchemaValidationError, type SchemaErrorKind } from './errors.js';
export { CONSTRUCTOR_OF, registryOf, type ExtensionFunction, type ExtensionRegistry } from './extensions.js';
export { compileParser, readEntityUid, type Parser, type ParserEnv } from './parse-value.js';
export type * from './model.js';
export { isActionType, typeName } from './model.js';
export { defaultExtensions } from './default-extensions.js';
