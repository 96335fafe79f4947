import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { isStoreFile } from './read-store.js';

/**
 * Calls `onChange` once the store folder has been quiet for `debounceMs` after a change to a file
 * that affects decisions. Editors save in bursts (rename, write, chmod); the debounce folds a
 * burst into one reload.
 */
export function watchStoreDir(dir: string, debounceMs: number, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive: true, persistent: false }, (_event, filename) => {
      if (filename && !isStoreFile(path.basename(filename.toString()))) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
    });
    watcher.on('error', () => {
      /* the folder vanished; the last good version keeps serving */
    });
  } catch {
    return () => {};
  }
  return () => {
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}
