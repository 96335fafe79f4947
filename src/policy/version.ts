import { createHash } from 'node:crypto';
import type { StoreFile } from './types.js';

/**
 * A store version: a content hash over named parts (file paths and contents for a folder; ids,
 * texts, links, schema and entities for a store pulled into memory), in name order, so the same
 * content always has the same version whatever order it was read in.
 */
export function contentVersion(parts: Iterable<readonly [string, string]>): string {
  const hash = createHash('sha256');
  for (const [name, content] of [...parts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
    hash.update(name).update('\0').update(content).update('\0');
  return hash.digest('hex').slice(0, 12);
}

/** The version of a store folder: every file that affects decisions. */
export function versionOf(files: StoreFile[]): string {
  return contentVersion(files.map((f) => [f.path, f.content] as const));
}
