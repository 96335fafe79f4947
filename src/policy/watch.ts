import { lstatSync, readdirSync, realpathSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { isStoreFile } from './read-store.js';

/**
 * Calls `onChange` once the store folder has been quiet for `debounceMs` after a change to a file
 * that affects decisions. Editors save in bursts (rename, write, chmod); the debounce folds a
 * burst into one reload.
 *
 * Each folder of the store is watched on its own (not with `recursive: true`): on Linux, Node 20's
 * recursive watcher follows files by inode, so after an editor's atomic save (write a temp file,
 * rename it over the original) it misses every later edit of that file. A folder watch sees its
 * entries whatever their inode. Folders added later are picked up on the next event.
 *
 * The walk starts at the folder's real path, re-resolved on every sync: a Kubernetes ConfigMap
 * volume updates by writing a new hidden folder and swapping a symlink to it (then deleting the
 * old one), so a store folder that is such a symlink moves; the deletions in the old folder
 * trigger a sync that follows it.
 */
/** The debounce timer; tests pass their own to fire it when they choose. */
export interface DebounceTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: DebounceTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function watchStoreDir(
  dir: string,
  debounceMs: number,
  onChange: () => void,
  timers: DebounceTimers = realTimers,
): () => void {
  const watchers = new Map<string, FSWatcher>();
  let timer: unknown;
  let closed = false;

  const schedule = () => {
    if (closed) return;
    if (timer !== undefined) timers.clear(timer);
    timer = timers.set(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
  };

  const onEvent = (folder: string) => (_event: string, filename: string | Buffer | null) => {
    if (closed) return;
    const name = filename?.toString();
    // A new or removed sub-folder changes what to watch.
    if (!name || !isFile(path.join(folder, name))) sync();
    if (name && !affectsDecisions(name)) return;
    schedule();
  };

  const sync = () => {
    const wanted = new Set(foldersOf(dir));
    for (const [folder, watcher] of watchers) {
      if (!wanted.has(folder)) {
        watcher.close();
        watchers.delete(folder);
      }
    }
    for (const folder of wanted) {
      if (watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, onEvent(folder));
        watcher.on('error', () => {
          /* the folder vanished; the last good version keeps serving */
          watcher.close();
          watchers.delete(folder);
        });
        watchers.set(folder, watcher);
      } catch {
        /* gone between listing and watching */
      }
    }
  };

  sync();
  return () => {
    closed = true;
    if (timer !== undefined) timers.clear(timer);
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
  };
}

/**
 * Store files, and the `..data` entries through which Kubernetes swaps a mounted ConfigMap (every
 * file is a symlink through `..data`, replaced in one rename).
 */
function affectsDecisions(name: string): boolean {
  const base = path.basename(name);
  return isStoreFile(base) || base.startsWith('..');
}

/**
 * The store folder and its sub-folders, as readStoreFiles reads them: dot folders skipped, symlinks
 * to folders not followed (no loops).
 */
function foldersOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string) => {
    out.push(folder);
    try {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        if (entry.isDirectory() && !entry.name.startsWith('.')) walk(path.join(folder, entry.name));
      }
    } catch {
      /* vanished while listing */
    }
  };
  let root = dir;
  try {
    root = realpathSync(dir);
  } catch {
    /* mid-swap or gone: walk what the path gives */
  }
  walk(root);
  return out;
}

/** True for an entry that exists and is not a folder (a file or a symlink). */
function isFile(p: string): boolean {
  try {
    return !lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}
