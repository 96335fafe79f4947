import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A folder laid out as the kubelet lays out a ConfigMap volume (its "atomic writer"): the files
 * live in a timestamped hidden folder, `..data` is a symlink to it, and each top-level name is a
 * symlink through `..data`. An update writes a new hidden folder, swaps `..data` with a rename and
 * deletes the old folder, so a reader never sees half an update, and a watcher on the old
 * folder sees it vanish.
 */
export class ConfigMapVolume {
  private generation = 0;
  private current?: string;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Writes a new version of the volume: `files` maps a path in the volume to its content. */
  publish(files: Record<string, string>): void {
    const version = `..2026_01_01_00_00_0${this.generation++}.${process.pid}`;
    for (const [rel, content] of Object.entries(files)) {
      const file = path.join(this.dir, version, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    const tmp = path.join(this.dir, '..data_tmp');
    symlinkSync(version, tmp);
    renameSync(tmp, path.join(this.dir, '..data'));
    for (const top of new Set(Object.keys(files).map((rel) => rel.split('/')[0]!))) {
      const link = path.join(this.dir, top);
      if (!existsSync(link)) symlinkSync(path.join('..data', top), link);
    }
    if (this.current) rmSync(path.join(this.dir, this.current), { recursive: true, force: true });
    this.current = version;
  }
}
