import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { StartupError } from '../core/errors.js';
import { listStoreDirs } from '../policy/read-store.js';

/**
 * A folder is one store when it holds `.cedar` files itself; otherwise each sub-folder is a store.
 * A path that does not exist, is not a folder, or holds no store is an error naming it (never
 * "0 valid" and success).
 */
export function storesIn(dir: string): { name: string; dir: string }[] {
  if (!existsSync(dir)) throw new StartupError(`${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new StartupError(`${dir} is not a folder`);
  const isStore = readdirSync(dir).some((f) => f.endsWith('.cedar'));
  const stores = isStore
    ? [{ name: path.basename(dir), dir }]
    : listStoreDirs(dir).map((name) => ({ name, dir: path.join(dir, name) }));
  if (stores.length === 0)
    throw new StartupError(`${dir} holds no policy store (a folder with .cedar files, or folders of them)`);
  return stores;
}
