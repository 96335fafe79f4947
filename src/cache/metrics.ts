/** What the caches report; observability/metrics implements it (the cache owns the port). */
export interface CacheMetrics {
  hit(): void;
  miss(): void;
  /** An entry pushed out to stay within the bound (not an expiry, not a clear on reload). */
  evict(): void;
}
