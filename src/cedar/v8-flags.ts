import v8 from 'node:v8';

/**
 * Imported (first) by every module that calls cedar-wasm, before any Cedar call is optimized.
 *
 * V8 11.3 (Node 20) aborts the whole process — `Fatal error: unreachable code` in
 * `Deoptimizer::DoComputeBuiltinContinuation` — when optimized code that inlined a JS→Wasm call
 * (cedar-wasm's exports return `externref`s) is deoptimized lazily while that Wasm call runs. It
 * happens the first time cedar-wasm grows its memory once the engine is warm: the growth detaches
 * the old ArrayBuffer, which invalidates a protector the optimized caller depends on. A warm
 * sidecar then dies on an ordinary request. Without the inlining, each call goes through the
 * regular JS→Wasm wrapper (nanoseconds, against tens of microseconds per decision).
 */
v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
