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

/** The result of a lookup: the keys to remember an answer under, and the answer when it was a hit. */
export interface CacheLookup {
  store: string;
  storeVersion: string;
  /** The semantic key; absent when the raw key hit (nothing else was computed). */
  key?: string;
  /** The first-level key from the request's bytes, when it had one. */
  rawKey?: string;
  hit?: CachedAnswer;
}

/**
 * Raw keys longer than this are not used (the semantic key alone serves such a request): a raw key
 * is held whole, so this bounds what one entry can cost (10,000 entries × 2 K chars ≈ 40 MiB per
 * store at worst; a typical request is a few hundred).
 */
export const MAX_RAW_KEY_CHARS = 2048;

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
  /**
   * Looks a request up against a store version: first by `rawKey` (the request's bytes with its
   * door and caller, when it has one: no key computed, no hash), then by the semantic key over
   * everything the decision depends on. A semantic hit is also remembered under the raw key.
   */
  lookup(store: string, storeVersion: string, request: EngineRequest, rawKey?: string): CacheLookup;
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
  /**
   * Raw keys (request bytes with door and caller) → the same answers, in their own LRU of the same
   * bound, so `maxEntries`, the size and the eviction count keep meaning decisions.
   */
  raw: LRUCache<string, CachedAnswer>;
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
        raw: new LRUCache<string, CachedAnswer>({
          max: options.maxEntries,
          ttl: Math.max(options.allowTtlMs, options.denyTtlMs, 1),
          ...clock,
        }),
      };
      stores.set(store, sc);
    } else if (sc.version !== version) {
      sc.lru.clear();
      sc.raw.clear();
      sc.version = version;
    }
    return sc;
  };

  return {
    lookup(store, storeVersion, request, rawKey) {
      const sc = storeCache(store, storeVersion);
      const lru = sc.lru;
      const raw = rawKey !== undefined && rawKey.length <= MAX_RAW_KEY_CHARS ? rawKey : undefined;
      if (raw !== undefined) {
        const hit = sc.raw.get(raw);
        if (hit) {
          options.metrics?.hit();
          return { store, storeVersion, rawKey: raw, hit };
        }
      }
      const key = decisionKey(store, storeVersion, request);
      const hit = lru.get(key);
      if (hit) {
        options.metrics?.hit();
        // Never longer than the answer it repeats: the raw entry expires with the semantic one.
        if (raw !== undefined) sc.raw.set(raw, hit, { ttl: Math.max(1, lru.getRemainingTTL(key)) });
        return { store, storeVersion, key, hit };
      }
      options.metrics?.miss();
      return raw !== undefined ? { store, storeVersion, key, rawKey: raw } : { store, storeVersion, key };
    },
    remember(lookup, answer) {
      if (answer.kind !== 'evaluated' || answer.storeVersion !== lookup.storeVersion) return;
      const sc = stores.get(lookup.store);
      if (!sc || sc.version !== lookup.storeVersion) return;
      const ttl = answer.allow ? options.allowTtlMs : options.denyTtlMs;
      if (ttl <= 0) return;
      const cached: CachedAnswer = {
        allow: answer.allow,
        determiningPolicies: answer.determiningPolicies,
        errors: answer.errors,
        storeVersion: answer.storeVersion,
      };
      if (lookup.key !== undefined) sc.lru.set(lookup.key, cached, { ttl });
      if (lookup.rawKey !== undefined) sc.raw.set(lookup.rawKey, cached, { ttl });
    },
    size() {
      let n = 0;
      for (const sc of stores.values()) n += sc.lru.size;
      return n;
    },
  };
}
