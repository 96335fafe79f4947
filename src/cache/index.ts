export { canonicalJson, decisionKey } from './key.js';
export {
  createDecisionCache,
  type CachedAnswer,
  type CacheLookup,
  type DecisionCache,
  type DecisionCacheOptions,
} from './decision-cache.js';
export { createTokenCache, tokenKey, type TokenCache, type TokenCacheOptions } from './token-cache.js';
