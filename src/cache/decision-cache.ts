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
  /** The semantic key. */
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

/** A first-level entry: the answer a byte-identical request got, and what the pipeline needs to repeat it. */
export interface RawEntry {
  store: string;
  storeVersion: string;
  hit: CachedAnswer;
  /** The pipeline's own record of the request (opaque here). */
  memo: unknown;
}

export interface DecisionCache {
  /**
   * Before the request is parsed: a byte-identical repeat (the request's bytes with its door and
   * verified caller, `rawKey`) is answered when the store that answered it still serves the same
   * version (`servingVersion`) and the answer's TTL has not run out. Counted as a hit when found;
   * a miss is not counted (the semantic lookup that follows counts it).
   */
  lookupRaw(rawKey: string, servingVersion: (store: string) => string | undefined): RawEntry | undefined;
  /**
   * Looks a request up against a store version by the semantic key over everything the decision
   * depends on. `rawKey` is carried in the result, to remember the answer under it too.
   */
  lookup(store: string, storeVersion: string, request: EngineRequest, rawKey?: string): CacheLookup;
  /**
   * Remembers an engine answer under a lookup's key (and its raw key, when given a `memo`). Only
   * `evaluated` answers are kept, and only when they were evaluated by the version the key was
   * computed for and that version is still current: a reload in between never lets an answer of
   * one version be served for another.
   */
  remember(lookup: CacheLookup, answer: EngineAnswer, memo?: unknown): void;
  /** After a semantic hit: the same answer under the lookup's raw key, for no longer than it has left. */
  rememberRaw(lookup: CacheLookup, memo: unknown): void;
  /** Entries held, over every store (semantic entries: the raw ones repeat them). */
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

  /**
   * Raw keys (request bytes with door and caller) → answers, one LRU over every store (the store is
   * not known before the request is parsed), of the same bound, in their own LRU so `maxEntries`,
   * the size and the eviction count keep meaning decisions. A stale entry (its store reloaded) is
   * found by its version at lookup and dropped.
   */
  const raw = new LRUCache<string, RawEntry>({
    max: options.maxEntries,
    ttl: Math.max(options.allowTtlMs, options.denyTtlMs, 1),
    ...clock,
  });
  const usable = (rawKey: string | undefined) =>
    rawKey !== undefined && rawKey.length <= MAX_RAW_KEY_CHARS ? rawKey : undefined;

  return {
    lookupRaw(rawKey, servingVersion) {
      if (rawKey.length > MAX_RAW_KEY_CHARS) return undefined;
      const entry = raw.get(rawKey);
      if (!entry) return undefined;
      if (servingVersion(entry.store) !== entry.storeVersion) {
        raw.delete(rawKey);
        return undefined;
      }
      options.metrics?.hit();
      return entry;
    },
    lookup(store, storeVersion, request, rawKey) {
      const sc = storeCache(store, storeVersion);
      const rk = usable(rawKey);
      const key = decisionKey(store, storeVersion, request);
      const hit = sc.lru.get(key);
      if (hit) options.metrics?.hit();
      else options.metrics?.miss();
      return {
        store,
        storeVersion,
        key,
        ...(rk !== undefined ? { rawKey: rk } : {}),
        ...(hit ? { hit } : {}),
      };
    },
    remember(lookup, answer, memo) {
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
      if (lookup.rawKey !== undefined && memo !== undefined)
        raw.set(
          lookup.rawKey,
          { store: lookup.store, storeVersion: lookup.storeVersion, hit: cached, memo },
          { ttl },
        );
    },
    rememberRaw(lookup, memo) {
      if (lookup.rawKey === undefined || !lookup.hit || lookup.key === undefined) return;
      const sc = stores.get(lookup.store);
      if (!sc || sc.version !== lookup.storeVersion) return;
      // Never longer than the answer it repeats: the raw entry expires with the semantic one.
      const ttl = Math.max(1, sc.lru.getRemainingTTL(lookup.key));
      raw.set(
        lookup.rawKey,
        { store: lookup.store, storeVersion: lookup.storeVersion, hit: lookup.hit, memo },
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
