import { fstatSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { compileMasks } from './mask.js';
import { uidKey, type CedarValue, type Entity, type EntityUid } from '../cedar/types.js';
import { StartupError } from '../core/errors.js';
import type { DecisionEvent, DecisionObserver } from '../pipeline/pipeline.js';
import type { DecisionError } from '../core/decision.js';

/** Where lines go: anything with a Node-style `write()` that returns false when full and emits `drain`. */
export interface LogSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface DecisionLogOptions {
  /** Log only DENY decisions. */
  onlyDenies: boolean;
  /** Fraction of ALLOW decisions logged (0–1); every DENY is logged. */
  allowSampleRate: number;
  /** Paths masked with `"***"` (pino redact syntax), e.g. `context.accountNumber`. */
  maskPaths: string[];
  /** Lines held while the sink is busy; beyond it lines are dropped and counted. */
  bufferSize: number;
  /**
   * Each line also records the request as its store saw it (`request`), so `authz-sidecar replay`
   * can decide it again, and which mask paths hid a value (`masked`). Default false.
   */
  replayable?: boolean;
}

export interface DecisionLogDeps {
  sink: LogSink;
  /** Called once per line dropped because the buffer was full. */
  onDrop?: () => void;
  /** For the allow sample; default `Math.random`. */
  random?: () => number;
  now?: () => number;
}

export interface DecisionLog extends DecisionObserver {
  /** Lines dropped so far because the buffer was full. */
  readonly dropped: number;
  /** Hands every buffered line to the sink, waiting for `drain` while it is full; resolves once it has. */
  flush(): Promise<void>;
}

/** One line of the decision log. Never the subject: for token callers it holds the raw token. */
export interface DecisionLine {
  type: 'decision';
  time: string;
  decisionId: string;
  callerType: string | null;
  principal: string | null;
  action: string;
  resource: string;
  decision: 'ALLOW' | 'DENY';
  determiningPolicies: string[];
  errors: DecisionError[];
  reason: string | null;
  store: string | null;
  storeVersion: string | null;
  cached: boolean;
  durationMs: number;
  context: Record<string, CedarValue>;
  /** Replayable lines only: the request as its store saw it, when it reached its store. Never the token. */
  request?: ReplayableRequest | null;
  /** Replayable lines only: the configured mask paths that hid a value in this line. */
  masked?: string[];
}

/**
 * What a replayable line records to decide a request again: the principal, action and resource,
 * the whole context (the token's claims the store was given included) and the request's entities
 * (the verified principal's entity included). The store's own entities are not recorded: replay
 * takes them from the candidate store.
 */
export interface ReplayableRequest {
  principal: EntityUid;
  action: EntityUid;
  resource: EntityUid;
  context: Record<string, CedarValue>;
  entities: Entity[];
}

/** Lines serialised into one write to the sink. */
const BATCH = 1_000;

/** The record of one decision; fields a deny without evaluation lacks are null, so every line has one shape. */
export function decisionLine(event: DecisionEvent, time: number, replayable = false): DecisionLine {
  const { request, decision: d } = event;
  const principal: EntityUid | undefined =
    d.principal ?? (request.subject.kind === 'principal' ? request.subject.principal : undefined);
  const line: DecisionLine = {
    // Tells decision lines from anything else on stdout.
    type: 'decision',
    time: new Date(time).toISOString(),
    decisionId: d.decisionId,
    callerType: d.callerType ?? null,
    principal: principal ? uidKey(principal) : null,
    action: uidKey(request.action),
    resource: uidKey(request.resource),
    decision: d.decision,
    determiningPolicies: d.determiningPolicies,
    errors: d.errors,
    reason: d.reason ?? null,
    store: d.store ?? null,
    storeVersion: d.storeVersion ?? null,
    cached: d.cached,
    durationMs: Math.round(event.durationSeconds * 1e6) / 1e3,
    context: request.context,
  };
  if (replayable) {
    const e = event.evaluated;
    // Field by field: the engine request may also carry the raw token, a signal and a deadline.
    line.request = e
      ? {
          principal: e.principal,
          action: e.action,
          resource: e.resource,
          context: e.context,
          entities: e.entities,
        }
      : null;
    line.masked = [];
  }
  return line;
}

/**
 * The decision log: one JSON line per decision, built directly from the decision (masked paths
 * replaced by copy on write, see mask.ts). `onDecision` only queues a record; serialising and writing happen on a later
 * turn of the event loop, one write per batch. When the sink reports it is full the log waits for
 * `drain`; meanwhile at most `bufferSize` records wait and any more are dropped and counted, so a
 * slow disk or a blocked stdout never slows a decision nor grows memory without bound.
 */
export function createDecisionLog(options: DecisionLogOptions, deps: DecisionLogDeps): DecisionLog {
  if (!(options.bufferSize >= 1)) throw new TypeError('decision log: bufferSize must be at least 1');
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const replayable = options.replayable ?? false;
  let mask: ReturnType<typeof compileMasks>;
  try {
    mask = compileMasks(replayable ? withRecordedRequest(options.maskPaths) : options.maskPaths, replayable);
  } catch (err) {
    throw new StartupError(`config key decisionLog.maskPaths: ${(err as Error).message}`);
  }

  // Only the event and its time are queued; the line is built when the batch is written.
  const queue: { event: DecisionEvent; time: number }[] = [];
  let dropped = 0;
  let scheduled = false;
  let blocked = false;
  let waiters: (() => void)[] = [];

  const settle = () => {
    if (queue.length) return;
    const w = waiters;
    waiters = [];
    w.forEach((resolve) => resolve());
  };

  /** One batch per turn of the event loop, so a long queue never holds up requests. */
  const drain = () => {
    scheduled = false;
    if (queue.length && !blocked) {
      const batch = queue.splice(0, BATCH);
      let chunk = '';
      let full = false;
      try {
        // One JSON.stringify per line of a plain object: measured, pino's general-purpose
        // formatting (level, bindings, redaction wrappers) was ~9% of a cached decision's CPU.
        for (const { event, time } of batch) {
          const line = decisionLine(event, time, replayable) as unknown as Record<string, unknown>;
          chunk += JSON.stringify(mask ? mask(line) : line) + '\n';
        }
        full = !deps.sink.write(chunk);
      } catch {
        // A destination that throws (closed, destroyed) loses this batch; it is counted, never raised.
        dropped += batch.length;
        for (let i = 0; i < batch.length; i++) deps.onDrop?.();
      }
      if (full) {
        blocked = true;
        deps.sink.once('drain', () => {
          blocked = false;
          drain();
        });
      } else if (queue.length) schedule();
    }
    settle();
  };

  const schedule = () => {
    if (scheduled || blocked) return;
    scheduled = true;
    setImmediate(drain);
  };

  return {
    get dropped() {
      return dropped;
    },
    onDecision(event) {
      if (event.decision.decision === 'ALLOW') {
        if (options.onlyDenies) return;
        if (options.allowSampleRate < 1 && random() >= options.allowSampleRate) return;
      }
      if (queue.length >= options.bufferSize) {
        dropped++;
        deps.onDrop?.();
        return;
      }
      queue.push({ event, time: now() });
      schedule();
    },
    flush() {
      if (!queue.length) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        if (!blocked) drain();
      });
    },
  };
}

/**
 * Mask paths for a replayable line: a path into the request's fields (`context.card`, `principal`)
 * also masks the same field of the recorded request (`request.context.card`), under the path's own
 * name, so a value hidden in one place is not left readable in the other.
 */
export function withRecordedRequest(paths: string[]): { path: string; name: string }[] {
  const out: { path: string; name: string }[] = [];
  for (const path of paths) {
    out.push({ path, name: path });
    if (/^(context|principal|action|resource)([.[]|$)/.test(path)) out.push({ path: `request.${path}`, name: path });
  }
  return out;
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
