import { LRUCache } from 'lru-cache';
import type { EngineAnswer, EngineRequest } from '../core/engine.js';
import type { CacheMetrics } from './metrics.js';
import type { DecisionError } from '../core/decision.js';
import { decisionKey } from './key.js';

/** What the cache keeps of an evaluated answer; the pipeline builds a fresh Decision from it. */
export interface CachedAnswer {
  allow: boolean;
  determiningPolicies: string[];
  errors: DecisionError[];
  storeVersion: string;
}

/** The result of a lookup: the key to remember an answer under, and the answer when it was a hit. */
export interface CacheLookup {
  store: string;
  storeVersion: string;
  key: string;
  hit?: CachedAnswer;
}

export interface DecisionCacheOptions {
  /** Entries per store; the least recently used one is evicted beyond it. */
  maxEntries: number;
  /** How long an ALLOW is served from the cache, in milliseconds. */
  allowTtlMs: number;
  /** How long an evaluated DENY is served from the cache, in milliseconds. */
  denyTtlMs: number;
  metrics?: CacheMetrics;
  /** Clock for TTLs in milliseconds (tests); default `performance.now`. */
  now?: () => number;
}

export interface DecisionCache {
  /** Computes the key of a request against a store version and looks it up. */
  lookup(store: string, storeVersion: string, request: EngineRequest): CacheLookup;
  /**
   * Remembers an engine answer under a lookup's key. Only `evaluated` answers are kept, and only when
   * they were evaluated by the version the key was computed for and that version is still current:
   * a reload in between never lets an answer of one version be served for another.
   */
  remember(lookup: CacheLookup, answer: EngineAnswer): void;
  /** Entries held, over every store. */
  size(): number;
}

interface StoreCache {
  version: string;
  lru: LRUCache<string, CachedAnswer>;
}

/**
 * The decision cache: one bounded LRU with TTL per store, so a flood against one store cannot evict
 * another store's entries. When a store's version changes its entries are dropped at the next
 * lookup (the version is in the key too, so they could never be served anyway).
 */
export function createDecisionCache(options: DecisionCacheOptions): DecisionCache {
  if (!(options.maxEntries >= 1)) throw new TypeError('decision cache: maxEntries must be at least 1');
  const stores = new Map<string, StoreCache>();
  // An injected clock is read on every check; the default one at most once per millisecond.
  const clock = options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {};

  const storeCache = (store: string, version: string): StoreCache => {
    let sc = stores.get(store);
    if (!sc) {
      sc = {
        version,
        lru: new LRUCache<string, CachedAnswer>({
          max: options.maxEntries,
          ttl: Math.max(options.allowTtlMs, options.denyTtlMs, 1),
          ...clock,
          dispose: (_value, _key, reason) => {
            if (reason === 'evict') options.metrics?.evict();
          },
        }),
      };
      stores.set(store, sc);
    } else if (sc.version !== version) {
      sc.lru.clear();
      sc.version = version;
    }
    return sc;
  };

  return {
    lookup(store, storeVersion, request) {
      const key = decisionKey(store, storeVersion, request);
      const hit = storeCache(store, storeVersion).lru.get(key);
      if (hit) options.metrics?.hit();
      else options.metrics?.miss();
      return hit ? { store, storeVersion, key, hit } : { store, storeVersion, key };
    },
    remember(lookup, answer) {
      if (answer.kind !== 'evaluated' || answer.storeVersion !== lookup.storeVersion) return;
      const sc = stores.get(lookup.store);
      if (!sc || sc.version !== lookup.storeVersion) return;
      const ttl = answer.allow ? options.allowTtlMs : options.denyTtlMs;
      if (ttl <= 0) return;
      sc.lru.set(
        lookup.key,
        {
          allow: answer.allow,
          determiningPolicies: answer.determiningPolicies,
          errors: answer.errors,
          storeVersion: answer.storeVersion,
        },
        { ttl },
      );
    },
    size() {
      let n = 0;
      for (const sc of stores.values()) n += sc.lru.size;
      return n;
    },
  };
}
