import path from 'node:path';
import { existsSync } from 'node:fs';
import type { LoadedConfig } from '../config/index.js';
import { StartupError } from '../errors.js';
import type { StoreEngine, StoreStatus } from '../engines/engine.js';
import { LocalStoreEngine, type ReloadResult } from '../engines/local.js';
import { listStoreDirs } from './read-store.js';
import { watchStoreDir } from './watch.js';

export interface ReloadEvent {
  store: string;
  result: ReloadResult;
}

/** The policy stores this process serves, by name. */
export interface StoreRegistry {
  get(name: string): StoreEngine | undefined;
  names(): string[];
  statuses(): StoreStatus[];
  /** True when every store has a loaded version. */
  ready(): boolean;
  close(): Promise<void>;
}

export interface StoreRegistryOptions {
  onReload?: (event: ReloadEvent) => void;
  /** Watch store folders for edits (default from config). */
  watch?: boolean;
}

/**
 * Builds the stores named by the config (or every folder under `policies.dir`) and loads them.
 * A store that fails to load stops startup with its located problems.
 */
export function createStoreRegistry(loaded: LoadedConfig, options: StoreRegistryOptions = {}): StoreRegistry {
  const { config } = loaded;
  const policiesDir = path.resolve(loaded.baseDir, config.policies.dir);
  const declared = config.stores
    ? Object.entries(config.stores).map(([name, s]) => ({
        name,
        dir: path.resolve(loaded.baseDir, s.path ?? path.join(config.policies.dir, name)),
      }))
    : discover(policiesDir);

  const stores = new Map<string, StoreEngine>();
  const stopWatching: (() => void)[] = [];
  for (const { name, dir } of declared) {
    if (!existsSync(dir))
      throw new StartupError(
        `policy store "${name}": folder ${dir} does not exist (config key stores.${name}.path)`,
      );
    const store = new LocalStoreEngine(name, dir);
    store.load();
    stores.set(name, store);
    if (options.watch ?? config.policies.watch) {
      stopWatching.push(
        watchStoreDir(dir, config.policies.reloadDebounceMs, () => {
          // Reload first: `onReload?.(…store.reload()…)` would skip the reload without a listener.
          const result = store.reload();
          options.onReload?.({ store: name, result });
        }),
      );
    }
  }

  return {
    get: (name) => stores.get(name),
    names: () => [...stores.keys()],
    statuses: () => [...stores.values()].map((s) => s.status()),
    ready: () => [...stores.values()].every((s) => s.status().ready),
    async close() {
      stopWatching.forEach((stop) => stop());
      await Promise.all([...stores.values()].map((s) => s.close()));
    },
  };
}

function discover(policiesDir: string): { name: string; dir: string }[] {
  if (!existsSync(policiesDir)) {
    throw new StartupError(`policies folder ${policiesDir} does not exist (config key policies.dir)`);
  }
  return listStoreDirs(policiesDir).map((name) => ({ name, dir: path.join(policiesDir, name) }));
}
