import { realpathSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { isStoreFile } from './read-store.js';

/**
 * Calls `onChange` once the store folder has been quiet for `debounceMs` after a change to a file
 * that affects decisions. Editors save in bursts (rename, write, chmod); the debounce folds a
 * burst into one reload.
 *
 * The watch is on the folder's real path, and follows it when it moves: a Kubernetes ConfigMap
 * volume updates by writing a new hidden folder and swapping a symlink to it (then deleting the
 * old one), so a watch that stayed on the old folder would see the first update and no other.
 */
export function watchStoreDir(dir: string, debounceMs: number, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let watched: string | undefined;

  const realPath = (): string | undefined => {
    try {
      return realpathSync(dir);
    } catch {
      return undefined; // mid-swap or gone: keep the watch we have
    }
  };

  const fire = () => {
    const now = realPath();
    if (now !== undefined && now !== watched) start(now);
    onChange();
  };

  const start = (target: string): boolean => {
    watcher?.close();
    watcher = undefined;
    try {
      watcher = watch(target, { recursive: true, persistent: false }, (_event, filename) => {
        if (filename && !isStoreFile(path.basename(filename.toString()))) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(fire, debounceMs);
      });
      watcher.on('error', () => {
        /* the folder vanished (a swap, or deleted); the last good version keeps serving */
      });
      watched = target;
      return true;
    } catch {
      return false;
    }
  };

  if (!start(realPath() ?? dir)) return () => {};
  return () => {
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}
