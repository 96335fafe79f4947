import { readdirSync } from 'node:fs';
import path from 'node:path';
import { listStoreDirs } from '../policy/read-store.js';

/** A folder is one store when it holds `.cedar` files itself; otherwise each sub-folder is a store. */
export function storesIn(dir: string): { name: string; dir: string }[] {
  const isStore = readdirSync(dir).some((f) => f.endsWith('.cedar'));
  return isStore
    ? [{ name: path.basename(dir), dir }]
    : listStoreDirs(dir).map((name) => ({ name, dir: path.join(dir, name) }));
}
