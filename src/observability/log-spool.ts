import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { StartupError } from '../core/errors.js';

/**
 * The decision log's spool (`decisionLog.onFull: spool`): a file on local disk that holds
 * serialised lines, oldest first, while the log's destination does not take them. Lines are
 * appended at the end and read back from the front; once everything has been read back the file
 * is emptied. It survives a restart: a process that finds lines in it writes them out first.
 *
 * Synchronous on purpose, unlike the destination: the spool is a local file, so a write lands in
 * the page cache (a batch of 1,000 lines, ~500 KiB, in well under a millisecond), whereas the
 * destination can be a pipe that blocks for as long as its reader stalls. Reading back happens a
 * chunk per turn of the event loop.
 */
export interface Spool {
  /** Bytes held (appended and not yet read back). */
  readonly bytes: number;
  /** Appends whole lines; false, appending nothing, when they would take it past its bound (unless `force`). */
  append(lines: string, force?: boolean): boolean;
  /**
   * Up to about `maxBytes` of whole lines from the front, or undefined when empty. They count as
   * held until `consumed()`.
   */
  peek(maxBytes: number): string | undefined;
  /** The lines of the last `peek` were written out: they are gone from the spool. */
  consumed(): void;
  /** Puts lines in front of everything held (they are older): at shutdown, the destination's unwritten lines. */
  prepend(lines: string): void;
  close(): void;
}

export interface SpoolOptions {
  file: string;
  maxBytes: number;
  /** A torn last line (a crash in the middle of a write) was found and discarded. */
  onTornLine?: () => void;
}

export function openSpool(options: SpoolOptions): Spool {
  const { file, maxBytes } = options;
  let fd: number;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    fd = openSync(file, 'a+');
  } catch (err) {
    throw new StartupError(
      `config key decisionLog.spool.path: cannot open ${file} (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  /** Where the next read starts, and where the file ends. */
  let readPos = 0;
  let size = fstatSync(fd).size;
  let peeked = 0;

  const empty = () => {
    ftruncateSync(fd, 0);
    readPos = size = peeked = 0;
  };

  // A crash in the middle of an append leaves a line without its newline: discard that tail.
  if (size > 0) {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) {
      const all = Buffer.alloc(size);
      readSync(fd, all, 0, size, 0);
      const end = all.lastIndexOf(0x0a) + 1;
      ftruncateSync(fd, end);
      size = end;
      options.onTornLine?.();
    }
  }

  return {
    get bytes() {
      return size - readPos;
    },
    append(lines, force = false) {
      if (!lines) return true;
      const buf = Buffer.from(lines, 'utf8');
      if (!force && size - readPos + buf.length > maxBytes) return false;
      // 'a+': every write goes to the end, whatever the read position.
      writeSync(fd, buf);
      size += buf.length;
      return true;
    },
    peek(want) {
      if (size === readPos) return undefined;
      const n = Math.min(Math.max(want, 1), size - readPos);
      const buf = Buffer.alloc(n);
      const got = readSync(fd, buf, 0, n, readPos);
      let end = buf.subarray(0, got).lastIndexOf(0x0a) + 1;
      if (end === 0) {
        // One line longer than `want`: read up to its end.
        const rest = Buffer.alloc(size - readPos);
        readSync(fd, rest, 0, rest.length, readPos);
        end = rest.indexOf(0x0a) + 1 || rest.length;
        peeked = end;
        return rest.subarray(0, end).toString('utf8');
      }
      peeked = end;
      return buf.subarray(0, end).toString('utf8');
    },
    consumed() {
      readPos += peeked;
      peeked = 0;
      if (readPos >= size) empty();
    },
    prepend(lines) {
      if (!lines) return;
      const held = Buffer.alloc(size - readPos);
      readSync(fd, held, 0, held.length, readPos);
      // Written beside the spool and renamed over it: a crash in between leaves one of the two whole.
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, Buffer.concat([Buffer.from(lines, 'utf8'), held]));
      closeSync(fd);
      renameSync(tmp, file);
      fd = openSync(file, 'a+');
      readPos = peeked = 0;
      size = fstatSync(fd).size;
    },
    close() {
      closeSync(fd);
    },
  };
}
