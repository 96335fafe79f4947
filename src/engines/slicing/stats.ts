/**
 * What a sliced store reports about its decisions. The engine takes it as an optional dependency so
 * that metrics live elsewhere (src/observability); labels stay bounded (the store name).
 */
export interface SliceStats {
  /**
   * One decision evaluated `policies` policies. `cache` is `hit` or `miss` for a sliced decision
   * (whether its preparsed slice was cached; an empty slice is always a hit), `none` when the store
   * evaluates its whole policy set.
   */
  onDecision(store: string, policies: number, cache: 'hit' | 'miss' | 'none'): void;
  /** The number of preparsed slices a store holds now. */
  onCacheSize(store: string, size: number): void;
}
