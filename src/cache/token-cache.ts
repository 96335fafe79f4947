import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CacheMetrics } from './metrics.js';

export interface TokenCacheOptions {
  /** Tokens held at most; the least recently used one is evicted beyond it. */
  maxEntries: number;
  /** Longest time a verified token is trusted without verifying it again, in milliseconds. */
  ttlMs: number;
  metrics?: CacheMetrics;
  /** Wall clock in milliseconds since the epoch (tests); default `Date.now`. Compared with `exp`. */
  now?: () => number;
}

/**
 * Verified tokens: sha256(raw token) → what verifying it produced (the identifier's `Caller`). Only
 * successes go in; a failed token is verified again each time. The raw token is never kept.
 */
export interface TokenCache<V> {
  get(token: string): V | undefined;
  /**
   * Remembers a verified token until the earlier of its `exp` (seconds since the epoch) and the
   * TTL. A token already expired, or expiring within the clock's resolution, is not stored.
   */
  set(token: string, value: V, expiresAt?: number): void;
  size(): number;
  clear(): void;
}

/** The hash a token is stored under: 44 bytes, whatever the token's size. */
export function tokenKey(token: string): string {
  return hash('sha256', token, 'base64');
}

/** A bounded LRU of verified tokens, each with its own deadline. */
export function createTokenCache<V extends object>(options: TokenCacheOptions): TokenCache<V> {
  if (!(options.maxEntries >= 1)) throw new TypeError('token cache: maxEntries must be at least 1');
  const now = options.now ?? Date.now;
  const lru = new LRUCache<string, { value: V; until: number }>({
    max: options.maxEntries,
    dispose: (_entry, _key, reason) => {
      if (reason === 'evict') options.metrics?.evict();
    },
  });

  return {
    get(token) {
      const key = tokenKey(token);
      const entry = lru.get(key);
      if (entry && entry.until > now()) {
        options.metrics?.hit();
        return entry.value;
      }
      if (entry) lru.delete(key);
      options.metrics?.miss();
      return undefined;
    },
    set(token, value, expiresAt) {
      const t = now();
      const until = Math.min(t + options.ttlMs, expiresAt === undefined ? Infinity : expiresAt * 1000);
      if (!(until > t)) return;
      lru.set(tokenKey(token), { value, until });
    },
    size: () => lru.size,
    clear: () => lru.clear(),
  };
}
