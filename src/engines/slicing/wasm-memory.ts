import '../../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { SlicingConfig } from '../../config/schema.js';

/**
 * Cedar's wasm memory, grown once at startup.
 *
 * In Node 20 each growth of a large wasm memory costs a full V8 garbage collection; a slice cache
 * filling up grows the memory in many small steps, and every decision's p99 suffers meanwhile
 * (DESIGN.md, "Scale"). Growing it once, up front, avoids that.
 *
 * cedar-wasm does not export its `WebAssembly.Memory`, and growing that memory directly would not
 * help anyway: Rust's allocator (dlmalloc) only hands out pages it grew itself, so pages grown from
 * outside stay unused (measured: the allocator still grows by the same amount afterwards). The
 * reservation therefore goes through the allocator: one large allocation, freed at once, leaves a
 * free region that later allocations use without growing. A string of n characters whose first
 * is not ASCII makes wasm-bindgen allocate n bytes, then reallocate to 3n (its UTF-8 worst case,
 * a new block) and write it with the native encoder: with n a quarter of the size, the memory grows
 * by about the size in two steps, and only about half of it is ever written (measured: 64 MiB
 * reserved costs some 40–60 MiB of RSS, part of it the transient string).
 *
 * The memory object is observed (not changed) while the reservation grows it, through the
 * `buffer` getter cedar-wasm's glue reads after a growth, to report the size.
 */

/** The part of `WebAssembly.Memory` used here (the compiler's lib has no WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const memoryPrototype = (globalThis as unknown as { WebAssembly: { Memory: { prototype: object } } })
  .WebAssembly.Memory.prototype;

/** V8's longest string (2^29 - 24 characters on 64-bit): the reservation stops at about 2 GiB. */
const MAX_STRING_LENGTH = 2 ** 29 - 24;

let reserved = false;
let memory: WasmMemory | undefined;

export interface WasmMemoryInfo {
  /** Bytes of Cedar's wasm memory now, when it could be observed. */
  bytes?: number;
  /** Milliseconds the reservation took (0 when nothing was done). */
  ms: number;
}

function observe(m: WasmMemory): void {
  memory ??= m;
}

/**
 * Leaves about `bytes` of Cedar's wasm memory free for later allocations, growing it in one or two
 * steps (once per process; later calls do nothing).
 */
export function reserveWasmMemory(bytes: number): WasmMemoryInfo {
  if (reserved || bytes <= 0) return { ms: 0, ...(memory ? { bytes: memory.buffer.byteLength } : {}) };
  reserved = true;
  const started = performance.now();
  const proto = memoryPrototype;
  const original = Object.getOwnPropertyDescriptor(proto, 'buffer');
  if (original?.get && original.configurable) {
    const get = original.get;
    Object.defineProperty(proto, 'buffer', {
      ...original,
      get(this: WasmMemory) {
        observe(this);
        return get.call(this);
      },
    });
  }
  try {
    // The name is rejected together with the malformed schema; nothing is kept.
    const length = Math.min(MAX_STRING_LENGTH, Math.max(2, Math.floor(bytes / 4)));
    cedar.preparseSchema('\u00e9' + ' '.repeat(length - 1), '{');
  } finally {
    if (original) Object.defineProperty(proto, 'buffer', original);
  }
  return { ms: performance.now() - started, ...(memory ? { bytes: memory.buffer.byteLength } : {}) };
}

/** Bytes of Cedar's wasm memory, when it has been observed (after a reservation). */
export function wasmMemoryBytes(): number | undefined {
  return memory?.buffer.byteLength;
}

/** Measured: a cached slice of a few policies takes about 18 KiB of Cedar's wasm memory. */
const SLICE_BYTES = 20 * 1024;
/** `auto` stops where a number does (`slicing.wasmMemoryMiB` ≤ 2,048). */
const MAX_AUTO_BYTES = 2_048 * 1_048_576;

/**
 * Bytes to reserve when a store slices (`slicing.wasmMemoryMiB`). `auto`: what a full slice cache
 * will take anyway (`cacheSize` × ~20 KiB, at most 2 GiB), so the reservation ends up used rather
 * than extra.
 */
export function wasmReserveBytes(slicing: Pick<SlicingConfig, 'wasmMemoryMiB' | 'cacheSize'>): number {
  if (slicing.wasmMemoryMiB !== 'auto') return slicing.wasmMemoryMiB * 1_048_576;
  return Math.min(slicing.cacheSize * SLICE_BYTES, MAX_AUTO_BYTES);
}
