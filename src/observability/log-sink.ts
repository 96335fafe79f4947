import { fstatSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { StartupError } from '../core/errors.js';

/** Where lines go: anything with a Node-style `write()` that returns false when full and emits `drain`. */
export interface LogSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  /**
   * `write`, with `done` called once the chunk has left this process (handed to the kernel). A
   * sink that cannot tell leaves it out: its chunks count as written when `write` returns.
   */
  writeConfirmed?(chunk: string, done: () => void): boolean;
  /** Bytes taken by `write` and not yet handed to the kernel, when the sink can tell. */
  pendingBytes?(): number;
}

/** A sink the decision log owns: closing it writes what is buffered, then releases the file. */
export interface OwnedSink extends LogSink {
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Opens `stdout`, `stderr` or a file (appended, folders created). A pipe or socket (a container's
 * stdout, read by the log collector) is written through Node's own non-blocking `process.stdout`
 * (or `stderr`); anything else (a file, a terminal) through an asynchronous sonic-boom
 * destination. Either way a full destination never blocks the event loop. Not sonic-boom for
 * pipes: its writes run on libuv's thread pool as blocking write(2) calls, so with a stalled
 * collector a thread stays stuck in write() and the process cannot exit (process.exit joins the
 * pool) — SIGTERM would hang until SIGKILL. A file that cannot be opened is a StartupError; a
 * write error later is reported once through `onError`.
 */
export function openLogSink(destination: string, onError: (err: Error) => void): OwnedSink {
  let fd: number;
  if (destination === 'stdout') fd = 1;
  else if (destination === 'stderr') fd = 2;
  else {
    try {
      mkdirSync(path.dirname(destination), { recursive: true });
      fd = openSync(destination, 'a');
    } catch (err) {
      throw new StartupError(
        `config key decisionLog.destination: cannot open ${destination} (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
  }
  const stat = fstatSync(fd);
  if (fd <= 2 && (stat.isFIFO() || stat.isSocket()))
    return streamSink(fd === 1 ? process.stdout : process.stderr, onError);
  const boom = pino.destination({ dest: fd, sync: false });
  let reported = false;
  boom.on('error', (err: Error) => {
    if (!reported) onError(err);
    reported = true;
  });
  return {
    write: (chunk) => boom.write(chunk),
    once: (event, listener) => boom.once(event, listener),
    close: (timeoutMs = 2_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        boom.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        try {
          boom.end();
        } catch {
          clearTimeout(timer);
          resolve();
        }
      }),
  };
}

/**
 * stdout or stderr when it is a pipe or socket: Node's own stream, a non-blocking libuv pipe whose
 * writes never hold a thread. Shared with the rest of the process, so it is never closed: closing
 * waits until what is queued has been written, or the timeout (a collector that never reads again
 * is given up, and the process can still exit).
 */
function streamSink(stream: NodeJS.WriteStream, onError: (err: Error) => void): OwnedSink {
  let reported = false;
  const onStreamError = (err: Error) => {
    // EPIPE: the reader went away; later writes fail and their lines are lost.
    if (!reported) onError(err);
    reported = true;
  };
  stream.on('error', onStreamError);
  return {
    write: (chunk) => stream.write(chunk),
    // libuv calls back once the pipe has taken the whole chunk: until then it is in this process's
    // memory, and lost if the process exits (the spool keeps such chunks at shutdown).
    writeConfirmed: (chunk, done) => stream.write(chunk, () => done()),
    pendingBytes: () => stream.writableLength,
    once: (event, listener) => stream.once(event, listener),
    close: (timeoutMs = 2_000) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          stream.off('error', onStreamError);
          stream.off('drain', done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        if (stream.writableLength === 0) done();
        else stream.once('drain', done);
      }),
  };
}
