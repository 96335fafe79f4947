import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../../test/support/temp.js';
import { watchStoreDir, type DebounceTimers } from './watch.js';

/**
 * The file events are real (inotify); the debounce timer is the test's own: it fires when the test
 * says, so "one reload per burst" and "nothing for ignored files" are checked without sleeping.
 * inotify reports a folder's events in order, so once the event of a later write has arrived,
 * every earlier write's event has been seen too.
 */
function manualTimers() {
  let pending: (() => void) | undefined;
  let sets = 0;
  let clears = 0;
  const timers: DebounceTimers = {
    set(fn) {
      sets++;
      pending = fn;
      return fn;
    },
    clear(handle) {
      clears++;
      if (pending === handle) pending = undefined;
    },
  };
  return {
    timers,
    clears: () => clears,
    /** Debounce timers started so far (one per event about a store file). */
    sets: () => sets,
    pending: () => pending !== undefined,
    /** The debounce period ends now. */
    fire() {
      const fn = pending;
      pending = undefined;
      fn?.();
    },
  };
}

let temp: ReturnType<typeof tempDir>;
let dir: string;
let changes: number;
let clock: ReturnType<typeof manualTimers>;
let stop: () => void;

beforeEach(() => {
  temp = tempDir('authz-watch-');
  dir = temp.dir;
  writeFileSync(path.join(dir, 'a.cedar'), 'a');
  mkdirSync(path.join(dir, 'sub'));
  changes = 0;
  clock = manualTimers();
  stop = watchStoreDir(dir, 30, () => changes++, clock.timers);
});
afterEach(() => {
  stop();
  temp.remove();
});

/** Waits until at least `n` debounce timers have been started (fails after 3 s). */
const eventsSeen = (n: number) =>
  waitFor(`${n} store-file events`, async () => (clock.sets() >= n ? true : undefined));

/** Writes a temp file and renames it over `file`, as editors save. */
function saveAtomically(file: string, content: string) {
  writeFileSync(`${file}.tmp~`, content);
  renameSync(`${file}.tmp~`, file);
}

/** An edit, seen and reported once its debounce ends. */
async function reported(edit: () => void): Promise<void> {
  const before = clock.sets();
  edit();
  await eventsSeen(before + 1);
  clock.fire();
}

describe('watchStoreDir', () => {
  it('reports a burst of edits once, when the debounce ends', async () => {
    for (let i = 0; i < 5; i++) writeFileSync(path.join(dir, 'a.cedar'), `a${i}`);
    await eventsSeen(1);
    // Each event restarts the one debounce timer (the kernel may also fold identical events);
    // nothing is reported until it ends.
    expect(clock.clears()).toBe(clock.sets() - 1);
    expect(changes).toBe(0);
    clock.fire();
    expect(changes).toBe(1);
  });

  it('keeps seeing a file after an atomic save replaced it (editors, kubectl cp)', async () => {
    const file = path.join(dir, 'a.cedar');
    await reported(() => saveAtomically(file, 'b'));
    // Node 20's recursive watcher follows the old inode and misses this one.
    await reported(() => writeFileSync(file, 'c'));
    await reported(() => saveAtomically(file, 'd'));
    await reported(() => writeFileSync(file, 'e'));
    expect(changes).toBe(4);
  });

  it('sees new files, files in sub-folders and files in folders created later', async () => {
    await reported(() => writeFileSync(path.join(dir, 'new.cedar'), 'n'));
    await reported(() => writeFileSync(path.join(dir, 'sub', 'b.cedar'), 'b'));
    // The new folder is watched once its creation has been seen (a sync on that event); a file
    // written into it before that would be read at the next reload anyway.
    mkdirSync(path.join(dir, 'later'));
    await reported(() => writeFileSync(path.join(dir, 'marker.cedar'), 'm'));
    await reported(() => writeFileSync(path.join(dir, 'later', 'c.cedar'), 'c'));
    expect(changes).toBe(4);
  });

  it('sees a deleted store file', async () => {
    await reported(() => rmSync(path.join(dir, 'a.cedar')));
    expect(changes).toBe(1);
  });

  it('sees a ConfigMap update (the ..data link swapped in one rename)', async () => {
    await reported(() => {
      mkdirSync(path.join(dir, '..v1'));
      writeFileSync(path.join(dir, '..v1', 'p.cedar'), 'v1');
      symlinkSync('..v1', path.join(dir, '..data'));
      symlinkSync('..data/p.cedar', path.join(dir, 'p.cedar'));
    });
    await reported(() => {
      mkdirSync(path.join(dir, '..v2'));
      writeFileSync(path.join(dir, '..v2', 'p.cedar'), 'v2');
      symlinkSync('..v2', path.join(dir, '..data_tmp'));
      renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    });
    expect(changes).toBe(2);
  });

  it('ignores files that do not affect decisions (tests.yaml, notes, swap files)', async () => {
    writeFileSync(path.join(dir, 'tests.yaml'), 'cases: []');
    writeFileSync(path.join(dir, 'README.md'), '#');
    writeFileSync(path.join(dir, '.a.cedar.swp'), 'x');
    // A store file written after them: once its event is in, theirs have been seen, and ignored.
    writeFileSync(path.join(dir, 'a.cedar'), 'after');
    await eventsSeen(1);
    // a.cedar's truncate-and-write is one or two events; the three ignored files would be three more.
    expect(clock.sets()).toBeLessThanOrEqual(2);
  });

  it('reports nothing after it is stopped', async () => {
    stop();
    // A second watcher on the same folder is the witness that the event happened.
    const witness = manualTimers();
    const stopWitness = watchStoreDir(dir, 30, () => undefined, witness.timers);
    try {
      writeFileSync(path.join(dir, 'a.cedar'), 'z');
      await waitFor('the witness to see the edit', async () => (witness.sets() > 0 ? true : undefined));
      expect(clock.sets()).toBe(0);
      expect(changes).toBe(0);
    } finally {
      stopWitness();
    }
  });
});
