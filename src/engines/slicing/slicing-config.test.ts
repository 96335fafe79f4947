import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromObject } from '../../config/index.js';
import { wasmReserveBytes } from './wasm-memory.js';
import { createStoreRegistry } from '../registry.js';
import { generateTenantStore } from '../../../scripts/gen-tenants.mjs';
import { tempDir } from '../../../test/support/slicing.js';

const tmp = tempDir('slicing-config');
const policies = path.join(tmp.dir, 'policies');
beforeAll(() => {
  generateTenantStore(path.join(policies, 'small'), { tenants: 10 }); // 31 policies
  generateTenantStore(path.join(policies, 'big'), { tenants: 200 }); // 362 policies
});
afterAll(() => tmp.remove());

/** Which stores slice, for a config (never reserving wasm memory here: wasmMemoryMiB 0). */
async function slicedStores(raw: Record<string, unknown>): Promise<Record<string, boolean>> {
  const slicing = { wasmMemoryMiB: 0, ...((raw.slicing as object) ?? {}) };
  const loaded = configFromObject({ ...raw, slicing, policies: { dir: policies, watch: false } }, tmp.dir);
  const registry = createStoreRegistry(loaded);
  try {
    return Object.fromEntries(registry.statuses().map((s) => [s.name, s.slicing !== undefined]));
  } finally {
    await registry.close();
  }
}

describe('slicing config', () => {
  it('defaults: auto above 200 policies, a bounded cache, wasm memory sized from it', () => {
    const { config } = configFromObject({}, tmp.dir);
    expect(config.slicing).toEqual({
      default: 'auto',
      autoThreshold: 200,
      cacheSize: 2000,
      wasmMemoryMiB: 'auto',
    });
  });

  it('reserves the wasm memory a full slice cache takes, or as configured', () => {
    const slicing = (raw: Record<string, unknown>) =>
      configFromObject({ slicing: raw }, tmp.dir).config.slicing;
    expect(wasmReserveBytes(slicing({}))).toBe(2_000 * 20 * 1024);
    expect(wasmReserveBytes(slicing({ cacheSize: 10_000 }))).toBe(10_000 * 20 * 1024);
    expect(wasmReserveBytes(slicing({ wasmMemoryMiB: 16 }))).toBe(16 * 1_048_576);
    expect(wasmReserveBytes(slicing({ cacheSize: 50_000, wasmMemoryMiB: 0 }))).toBe(0);
    expect(wasmReserveBytes(slicing({ cacheSize: 1_000_000 }))).toBe(2_048 * 1_048_576);
    expect(() => slicing({ wasmMemoryMiB: 4_096 })).toThrow(/slicing\.wasmMemoryMiB/);
    expect(() => slicing({ wasmMemoryMiB: 'lots' })).toThrow(/slicing\.wasmMemoryMiB/);
  });

  it('rejects unknown modes and keys', () => {
    expect(() => configFromObject({ slicing: { default: 'yes' } }, tmp.dir)).toThrow(/slicing\.default/);
    expect(() => configFromObject({ stores: { a: { slicing: 'maybe' } } }, tmp.dir)).toThrow(
      /stores\.a\.slicing/,
    );
    expect(() => configFromObject({ slicing: { threshold: 5 } }, tmp.dir)).toThrow(/slicing\.threshold/);
  });

  it('with `stores` absent, every folder takes the global default', async () => {
    expect(await slicedStores({})).toEqual({ big: true, small: false });
    expect(await slicedStores({ slicing: { default: 'on' } })).toEqual({ big: true, small: true });
    expect(await slicedStores({ slicing: { default: 'off' } })).toEqual({ big: false, small: false });
    expect(await slicedStores({ slicing: { autoThreshold: 10 } })).toEqual({ big: true, small: true });
  });

  it('a store’s own switch wins over the default', async () => {
    expect(
      await slicedStores({
        slicing: { default: 'auto' },
        stores: { small: { slicing: 'on' }, big: { slicing: 'off' } },
      }),
    ).toEqual({ big: false, small: true });
    expect(await slicedStores({ slicing: { default: 'on' }, stores: { small: {}, big: {} } })).toEqual({
      big: true,
      small: true,
    });
  });
});
