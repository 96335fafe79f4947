import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StoreFile } from './types.js';

/** Files that belong to a store's decisions. Test cases (tests.yaml) are not part of a version. */
export function isStoreFile(name: string): boolean {
  return (
    name.endsWith('.cedar') ||
    name.endsWith('.cedarschema') ||
    name.endsWith('.cedarschema.json') ||
    name === 'schema.json' ||
    name === 'entities.json' ||
    name === 'links.json'
  );
}

/**
 * Reads a store folder (recursively, sorted, so the version hash is stable). Dot entries are
 * skipped; symlinks to folders are not followed.
 */
export function readStoreFiles(dir: string): StoreFile[] {
  const files: StoreFile[] = [];
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (entry.name.startsWith('.')) continue;
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(childRel);
      // A symlinked file is read through its link (a Kubernetes ConfigMap mounts every file as
      // one); a dangling link fails the load rather than silently dropping its policies.
      else if ((entry.isFile() || entry.isSymbolicLink()) && isStoreFile(entry.name)) {
        files.push({ path: childRel, content: readFileSync(path.join(dir, childRel), 'utf8') });
      }
    }
  };
  walk('');
  return files;
}

/** Names of the store folders under a policies folder. */
export function listStoreDirs(policiesDir: string): string[] {
  return readdirSync(policiesDir)
    .filter((name) => !name.startsWith('.') && statSync(path.join(policiesDir, name)).isDirectory())
    .sort();
}
