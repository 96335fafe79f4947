import '../../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

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
 * free region that later allocations use without growing. A string whose first character is not
 * ASCII makes wasm-bindgen allocate its length, then reallocate to three times that (its UTF-8
 * worst case) and write it with the native encoder; only the first third is ever written.
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

/** Grows Cedar's wasm memory to at least `bytes` (once per process; later calls do nothing). */
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
    cedar.preparseSchema('\u00e9' + ' '.repeat(Math.max(1, Math.floor(bytes / 3))), '{');
  } finally {
    if (original) Object.defineProperty(proto, 'buffer', original);
  }
  return { ms: performance.now() - started, ...(memory ? { bytes: memory.buffer.byteLength } : {}) };
}

/** Bytes of Cedar's wasm memory, when it has been observed (after a reservation). */
export function wasmMemoryBytes(): number | undefined {
  return memory?.buffer.byteLength;
}
