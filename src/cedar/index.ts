/**
 * The TypeScript Cedar evaluator (matches cedar-wasm 4.13; cedar-wasm stays the parser).
 *
 * Typical use, once per store version:
 *   const est = policyTextToEst(text)                      // or cedar-wasm policyToJson(...).json
 *   const set = compilePolicySet({ staticPolicies, templates, templateLinks })
 *   if (set.unsupported.length > 0) → decide this store with cedar-wasm instead
 *   const store = new EntityStore(entities, actionEntities) // EntityData[] (json-value or schema/)
 * and per request:
 *   const view = store.view(requestEntities)              // shared static view when none
 *   const { decision, reasons, errors } = authorize(set, { principal, action, resource, context }, view)
 */
export { authorize, type AuthzError, type AuthzRequest, type AuthzResponse } from './authorize.js';
export {
  compilePolicySet,
  type CompiledPolicy,
  type CompiledPolicySet,
  type PolicySetInput,
  type TemplateLinkInput,
  type UnsupportedConstruct,
} from './policy-set.js';
export { EntityStore, type EntityView } from './entities.js';
export { policyTextToEst } from './exact-literals.js';
export { parseJsonExact, type ExactJson } from './json-exact.js';
export {
  CedarJsonError,
  dedupEntities,
  entityUidFromJson,
  extensionFromJson,
  longFromJson,
  parseContextJson,
  parseEntitiesJson,
  parseEntityJson,
  parseValueJson,
} from './json-value.js';
export { CedarEvalError } from './eval-error.js';
export * from './values.js';
export { Datetime, Decimal, Duration, IpAddr, EXTENSION_FUNCTIONS } from './ext/index.js';
