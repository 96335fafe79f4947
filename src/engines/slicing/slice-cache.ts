import '../../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { LRUCache } from 'lru-cache';

export type PreparseResult = { ok: true; id: string } | { ok: false; message: string };

/**
 * Preparsed policy subsets, least recently used first out, under a fixed pool of preparse ids.
 *
 * cedar-wasm cannot delete a preparsed set, so memory stays bounded only if ids are reused: the
 * cache never holds more than `max` entries, a new subset takes a free id or the id of the entry it
 * evicts, and preparsing under that id replaces the old set inside Cedar. Cedar calls are
 * synchronous, so no decision can run between the eviction and the new preparse.
 */
export class SliceCache {
  private readonly lru: LRUCache<string, string>;
  private readonly free: string[] = [];
  private next = 0;

  constructor(
    private readonly prefix: string,
    readonly max: number,
  ) {
    this.lru = new LRUCache<string, string>({ max });
  }

  get size(): number {
    return this.lru.size;
  }

  /** The preparsed id of a cached subset (and marks it recently used), or undefined. */
  get(key: string): string | undefined {
    return this.lru.get(key);
  }

  /** Preparses a subset under a pooled id and caches it. */
  add(key: string, policies: cedar.PolicySet): PreparseResult {
    let id = this.free.pop();
    if (id === undefined) {
      if (this.next < this.max) id = `${this.prefix}:${this.next++}`;
      else {
        const evicted = this.lru.rkeys().next();
        if (evicted.done) return { ok: false, message: 'slice cache has no id to reuse' };
        id = this.lru.peek(evicted.value)!;
        this.lru.delete(evicted.value);
      }
    }
    const answer = cedar.preparsePolicySet(id, policies);
    if (answer.type === 'failure') {
      this.free.push(id);
      return { ok: false, message: answer.errors.map((e) => e.message).join('; ') };
    }
    this.lru.set(key, id);
    return { ok: true, id };
  }
}
