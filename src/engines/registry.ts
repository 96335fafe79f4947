import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { VerifiedPermissionsClientConfig } from '@aws-sdk/client-verifiedpermissions';
import { z } from 'zod';
import type { Entity } from '../cedar/types.js';
import { formatIssues, type LoadedConfig } from '../config/index.js';
import { StartupError } from '../core/errors.js';
import { EntityWire } from '../cedar/wire.js';
import type { StoreEngine, StoreStatus } from '../core/engine.js';
import { AvpStoreEngine } from './avp.js';
import type { AvpObserver } from './avp-options.js';
import { AvpSyncStoreEngine, type AvpSyncObserver } from './avp-sync.js';
import { LocalStoreEngine, type EvaluatorObserver, type ReloadResult } from './local.js';
import type { SliceStats } from './slicing/stats.js';
import { reserveWasmMemory, wasmReserveBytes } from './slicing/wasm-memory.js';
import type { EvaluatorName, ShadowConfig, SlicingMode } from '../config/schema.js';
import { listStoreDirs } from '../policy/read-store.js';
import { watchStoreDir } from '../policy/watch.js';

export interface ReloadEvent {
  store: string;
  result: ReloadResult;
}

/** A candidate store shadowing a live one (`stores.<name>.shadow`). */
export interface ShadowSpec {
  /** The live store. */
  store: string;
  /** The candidate: its own engine for a folder, or another store's. */
  engine: StoreEngine;
  /** The folder or `store <name>`, for /readyz. */
  source: string;
  sampleRate: number;
  queueSize: number;
}

/** The policy stores this process serves, by name. */
export interface StoreRegistry {
  get(name: string): StoreEngine | undefined;
  /** Candidate stores shadowing live ones; they serve no request and never make the process unready. */
  shadows(): ShadowSpec[];
  names(): string[];
  statuses(): StoreStatus[];
  /** True when every store has a loaded version. */
  ready(): boolean;
  /** Starts the stores that start asynchronously (the first AVP sync); never throws for them. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreRegistryOptions {
  onReload?: (event: ReloadEvent) => void;
  /** Watch store folders for edits (default from config). */
  watch?: boolean;
  /** Metric hooks of the `avp` and `avp-sync` engines. */
  avpObserver?: AvpObserver;
  avpSyncObserver?: AvpSyncObserver;
  /**
   * SDK settings for the AVP engines, for tests and embedders only (static credentials, say);
   * no config key reaches them, so production credentials come from the SDK's default chain.
   */
  avpSdk?: Partial<VerifiedPermissionsClientConfig>;
  /** Receives sliced stores' statistics (policies evaluated per decision, slice cache). */
  sliceStats?: SliceStats;
  /** Which evaluator serves each store version, and verification mismatches. */
  evaluatorObserver?: EvaluatorObserver;
}

/**
 * Builds the stores named by the config (or every folder under `policies.dir`) and loads them.
 * A store that fails to load stops startup with its located problems.
 */
export function createStoreRegistry(loaded: LoadedConfig, options: StoreRegistryOptions = {}): StoreRegistry {
  const { config } = loaded;
  const policiesDir = path.resolve(loaded.baseDir, config.policies.dir);
  const stores = new Map<string, StoreEngine>();
  const stopWatching: (() => void)[] = [];

  // Grown once, when the first store slices: filling slice caches then does not grow it step by step.
  const reserveBytes = wasmReserveBytes(config.slicing);
  // Only a store that cedar-wasm decides fills a slice pool: a native store evaluates its slices
  // without preparsing them.
  const reserveIfSliced = (store: { sliced: boolean; evaluator?: { evaluator: string } | undefined }) => {
    if (store.sliced && store.evaluator?.evaluator !== 'native') reserveWasmMemory(reserveBytes);
  };

  /** Evaluator options of one store: its own choice, or the default; verification from config. */
  const evaluatorOptions = (choice: EvaluatorName | undefined) => ({
    evaluator: choice ?? config.evaluator.default,
    verify: config.evaluator.verify,
    ...(options.evaluatorObserver ? { evaluatorObserver: options.evaluatorObserver } : {}),
  });

  const addLocal = (name: string, dir: string, slicing: SlicingMode, evaluator?: EvaluatorName) => {
    if (!existsSync(dir))
      throw new StartupError(
        `policy store "${name}": folder ${dir} does not exist (config key stores.${name}.path)`,
      );
    const store = new LocalStoreEngine(name, dir, {
      slicing: {
        mode: slicing,
        autoThreshold: config.slicing.autoThreshold,
        cacheSize: config.slicing.cacheSize,
      },
      ...(options.sliceStats ? { stats: options.sliceStats } : {}),
      ...evaluatorOptions(evaluator),
    });
    store.load();
    reserveIfSliced(store);
    stores.set(name, store);
    if (options.watch ?? config.policies.watch) {
      stopWatching.push(
        watchStoreDir(dir, config.policies.reloadDebounceMs, () => {
          // Reload first: `onReload?.(…store.reload()…)` would skip the reload without a listener.
          const result = store.reload();
          reserveIfSliced(store);
          options.onReload?.({ store: name, result });
        }),
      );
    }
  };

  const shadows: ShadowSpec[] = [];
  const shadowEngines: StoreEngine[] = [];
  /**
   * A folder candidate loads with `reload`, not `load`: a broken candidate must not stop the live
   * store from serving, it shows its error in /readyz and is retried on its next edit.
   */
  const addShadow = (name: string, shadow: ShadowConfig, evaluator?: EvaluatorName) => {
    const key = `stores.${name}.shadow`;
    let engine: StoreEngine;
    let source: string;
    if (shadow.store !== undefined) {
      const other = stores.get(shadow.store);
      if (!other || shadow.store === name)
        throw new StartupError(
          `config key ${key}.store: ${shadow.store === name ? 'a store cannot shadow itself' : `no store named "${shadow.store}"`}`,
        );
      engine = other;
      source = `store ${shadow.store}`;
    } else {
      const dir = path.resolve(loaded.baseDir, shadow.path!);
      if (!existsSync(dir)) throw new StartupError(`config key ${key}.path: folder ${dir} does not exist`);
      const local = new LocalStoreEngine(`${name}:shadow`, dir, {
        slicing: {
          mode: 'off',
          autoThreshold: config.slicing.autoThreshold,
          cacheSize: config.slicing.cacheSize,
        },
        ...evaluatorOptions(evaluator),
      });
      local.reload();
      if (options.watch ?? config.policies.watch)
        stopWatching.push(
          watchStoreDir(dir, config.policies.reloadDebounceMs, () => {
            const result = local.reload();
            options.onReload?.({ store: `${name}:shadow`, result });
          }),
        );
      engine = local;
      shadowEngines.push(local);
      source = dir;
    }
    shadows.push({ store: name, engine, source, sampleRate: shadow.sampleRate, queueSize: shadow.queueSize });
  };

  if (!config.stores) {
    for (const { name, dir } of discover(policiesDir)) addLocal(name, dir, config.slicing.default);
  } else {
    for (const [name, s] of Object.entries(config.stores)) {
      switch (s.engine) {
        case 'local':
          addLocal(
            name,
            path.resolve(loaded.baseDir, s.path ?? path.join(config.policies.dir, name)),
            s.slicing ?? config.slicing.default,
            s.evaluator,
          );
          break;
        case 'avp':
          stores.set(
            name,
            new AvpStoreEngine({
              name,
              config: s,
              staticEntities: readEntitiesFile(loaded, name, s.entitiesFile),
              ...(options.avpObserver ? { observer: options.avpObserver } : {}),
              ...(options.avpSdk ? { sdk: options.avpSdk } : {}),
            }),
          );
          break;
        case 'avp-sync': {
          const engine: AvpSyncStoreEngine = new AvpSyncStoreEngine({
            name,
            config: s,
            staticEntities: readEntitiesFile(loaded, name, s.entitiesFile),
            observer: {
              sync: (event) => {
                reserveIfSliced(engine);
                options.avpSyncObserver?.sync?.(event);
              },
            },
            slicing: {
              mode: s.slicing ?? config.slicing.default,
              autoThreshold: config.slicing.autoThreshold,
              cacheSize: config.slicing.cacheSize,
            },
            ...(options.sliceStats ? { sliceStats: options.sliceStats } : {}),
            ...(options.avpSdk ? { sdk: options.avpSdk } : {}),
            ...evaluatorOptions(s.evaluator),
          });
          stores.set(name, engine);
          break;
        }
      }
    }
  }

  for (const [name, s] of Object.entries(config.stores ?? {}))
    if (s.shadow) addShadow(name, s.shadow, s.engine === 'avp' ? undefined : s.evaluator);

  return {
    get: (name) => stores.get(name),
    shadows: () => shadows,
    names: () => [...stores.keys()],
    statuses: () => [...stores.values()].map((s) => s.status()),
    ready: () => [...stores.values()].every((s) => s.status().ready),
    async start() {
      await Promise.all([...stores.values()].map((s) => s.start?.()));
    },
    async close() {
      stopWatching.forEach((stop) => stop());
      await Promise.all([...stores.values(), ...shadowEngines].map((s) => s.close()));
    },
  };
}

/** The `entitiesFile` of an AVP store: a JSON array of Cedar entities. Problems name the key. */
function readEntitiesFile(loaded: LoadedConfig, store: string, file: string | undefined): Entity[] {
  if (file === undefined) return [];
  const key = `stores.${store}.entitiesFile`;
  const abs = path.resolve(loaded.baseDir, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (err) {
    throw new StartupError(`config key ${key}: cannot read ${abs} as JSON (${(err as Error).message})`);
  }
  const parsed = z.array(EntityWire).safeParse(raw);
  if (!parsed.success)
    throw new StartupError(
      `config key ${key}: ${abs} is not a list of Cedar entities:\n${formatIssues(parsed.error.issues)}`,
    );
  return parsed.data as Entity[];
}

function discover(policiesDir: string): { name: string; dir: string }[] {
  if (!existsSync(policiesDir)) {
    throw new StartupError(`policies folder ${policiesDir} does not exist (config key policies.dir)`);
  }
  return listStoreDirs(policiesDir).map((name) => ({ name, dir: path.join(policiesDir, name) }));
}
