import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { watchStoreDir } from './watch.js';

const DEBOUNCE = 30;
let dir: string;
let changes: number;
let stop: () => void;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'authz-watch-'));
  writeFileSync(path.join(dir, 'a.cedar'), 'a');
  mkdirSync(path.join(dir, 'sub'));
  changes = 0;
  stop = watchStoreDir(dir, DEBOUNCE, () => changes++);
});
afterEach(() => {
  stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until onChange has run more than `seen` times (fails after 3 s). */
async function nextChange(seen: number): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (changes <= seen) {
    if (Date.now() > deadline) throw new Error('no change reported within 3 s');
    await sleep(10);
  }
}

/** Writes a temp file and renames it over `file`, as editors save. */
function saveAtomically(file: string, content: string) {
  writeFileSync(`${file}.tmp~`, content);
  renameSync(`${file}.tmp~`, file);
}

describe('watchStoreDir', () => {
  it('reports an edit once, after the burst has settled', async () => {
    for (let i = 0; i < 5; i++) writeFileSync(path.join(dir, 'a.cedar'), `a${i}`);
    await nextChange(0);
    await sleep(DEBOUNCE * 4);
    expect(changes).toBe(1);
  });

  it('keeps seeing a file after an atomic save replaced it (editors, kubectl cp)', async () => {
    const file = path.join(dir, 'a.cedar');
    saveAtomically(file, 'b');
    await nextChange(0);
    // Node 20's recursive watcher follows the old inode and misses this one.
    writeFileSync(file, 'c');
    await nextChange(1);
    saveAtomically(file, 'd');
    await nextChange(2);
    writeFileSync(file, 'e');
    await nextChange(3);
  });

  it('sees new files, files in sub-folders and files in folders created later', async () => {
    writeFileSync(path.join(dir, 'new.cedar'), 'n');
    await nextChange(0);
    writeFileSync(path.join(dir, 'sub', 'b.cedar'), 'b');
    await nextChange(1);
    mkdirSync(path.join(dir, 'later'));
    await sleep(DEBOUNCE * 2);
    const seen = changes;
    writeFileSync(path.join(dir, 'later', 'c.cedar'), 'c');
    await nextChange(seen);
  });

  it('sees a deleted store file', async () => {
    rmSync(path.join(dir, 'a.cedar'));
    await nextChange(0);
  });

  it('sees a ConfigMap update (the ..data link swapped in one rename)', async () => {
    mkdirSync(path.join(dir, '..v1'));
    writeFileSync(path.join(dir, '..v1', 'p.cedar'), 'v1');
    symlinkSync('..v1', path.join(dir, '..data'));
    symlinkSync('..data/p.cedar', path.join(dir, 'p.cedar'));
    await nextChange(0);
    await sleep(DEBOUNCE * 2);
    const seen = changes;
    mkdirSync(path.join(dir, '..v2'));
    writeFileSync(path.join(dir, '..v2', 'p.cedar'), 'v2');
    symlinkSync('..v2', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await nextChange(seen);
  });

  it('ignores files that do not affect decisions (tests.yaml, notes, swap files)', async () => {
    writeFileSync(path.join(dir, 'tests.yaml'), 'cases: []');
    writeFileSync(path.join(dir, 'README.md'), '#');
    writeFileSync(path.join(dir, '.a.cedar.swp'), 'x');
    await sleep(DEBOUNCE * 6);
    expect(changes).toBe(0);
  });

  it('reports nothing after it is stopped', async () => {
    stop();
    writeFileSync(path.join(dir, 'a.cedar'), 'z');
    await sleep(DEBOUNCE * 6);
    expect(changes).toBe(0);
  });
});
