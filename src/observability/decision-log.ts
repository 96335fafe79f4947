import { compileMasks } from './mask.js';
import type { LogSink } from './log-sink.js';
import type { Spool } from './log-spool.js';
import { uidKey, type CedarValue, type Entity, type EntityUid } from '../cedar/types.js';
import { StartupError } from '../core/errors.js';
import type { DecisionEvent, DecisionObserver } from '../pipeline/pipeline.js';
import type { DecisionError } from '../core/decision.js';

export interface DecisionLogOptions {
  /** Log only DENY decisions. */
  onlyDenies: boolean;
  /** Fraction of ALLOW decisions logged (0–1); every DENY is logged. */
  allowSampleRate: number;
  /** Paths masked with `"***"` (pino redact syntax), e.g. `context.accountNumber`. */
  maskPaths: string[];
  /** Lines held while the sink is busy; beyond it lines are dropped and counted (or spooled). */
  bufferSize: number;
  /** What a full buffer does: `drop` (default) or `spool` (needs `deps.spool`). */
  onFull?: 'drop' | 'spool';
  /**
   * Each line also records the request as its store saw it (`request`), so `authz-sidecar replay`
   * can decide it again, and which mask paths hid a value (`masked`). Default false.
   */
  replayable?: boolean;
}

export interface DecisionLogDeps {
  sink: LogSink;
  /** The spool file, for `onFull: spool`. */
  spool?: Spool;
  /** Called once per line dropped because the buffer was full. */
  onDrop?: () => void;
  /** For the allow sample; default `Math.random`. */
  random?: () => number;
  now?: () => number;
}

export interface DecisionLog extends DecisionObserver {
  /** Lines dropped so far because the buffer was full. */
  readonly dropped: number;
  /** Bytes waiting in the spool (`onFull: spool`). */
  readonly spooledBytes: number;
  /**
   * At shutdown, after `flush` (or its timeout): with a spool, everything not yet handed to the
   * kernel goes to the spool for the next start, and the spool is closed. Synchronous.
   */
  close(): void;
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

/** A queued decision; null once evicted to make room for a DENY. */
type Entry = { event: DecisionEvent; time: number } | null;

/** Bytes of the spool read back and written out per turn of the event loop. */
const SPOOL_READ = 256 * 1024;

/**
 * The decision log: one JSON line per decision, built directly from the decision (masked paths
 * replaced by copy on write, see mask.ts). `onDecision` only queues a record; serialising and
 * writing happen on a later turn of the event loop, one write per batch. When the sink reports it
 * is full the log waits for `drain`, and decisions never wait for the log:
 *
 * - `onFull: drop` (default): at most `bufferSize` records wait; beyond that one is dropped and
 *   counted, an ALLOW before a DENY (a DENY arriving at a full buffer takes the place of the
 *   oldest waiting ALLOW; a DENY is dropped only when every waiting record is a DENY).
 * - `onFull: spool` (with `deps.spool`): a full buffer moves its oldest `BATCH` records to the
 *   spool file; the spool is written out first, in order, when the sink takes lines again, and
 *   at `close()` whatever is still in memory (and what the sink took but had not yet handed to
 *   the kernel) goes to the spool, for the next start to write out. Drops happen only once the
 *   spool is at its bound, under the same ALLOW-first rule.
 */
export function createDecisionLog(options: DecisionLogOptions, deps: DecisionLogDeps): DecisionLog {
  if (!(options.bufferSize >= 1)) throw new TypeError('decision log: bufferSize must be at least 1');
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const replayable = options.replayable ?? false;
  const spool = options.onFull === 'spool' ? deps.spool : undefined;
  let mask: ReturnType<typeof compileMasks>;
  try {
    mask = compileMasks(replayable ? withRecordedRequest(options.maskPaths) : options.maskPaths, replayable);
  } catch (err) {
    throw new StartupError(`config key decisionLog.maskPaths: ${(err as Error).message}`);
  }

  // Only the event and its time are queued; the line is built when the batch is written.
  let queue: Entry[] = [];
  /** Records in the queue (evicted slots aside), ALLOWs among them, and where the oldest ALLOW may be. */
  let live = 0;
  let allows = 0;
  let allowScan = 0;
  let dropped = 0;
  let scheduled = false;
  let blocked = false;
  let waiters: (() => void)[] = [];
  /** Chunks the sink took but has not handed to the kernel yet (spool mode, sinks that can tell). */
  const unconfirmed = new Map<number, string>();
  let chunkSeq = 0;

  const isAllow = (e: Entry) => e !== null && e.event.decision.decision === 'ALLOW';
  const drop = (n = 1) => {
    dropped += n;
    for (let i = 0; i < n; i++) deps.onDrop?.();
  };
  const serialize = (entries: Entry[]) => {
    // One JSON.stringify per line of a plain object: measured, pino's general-purpose formatting
    // (level, bindings, redaction wrappers) was ~9% of a cached decision's CPU.
    let chunk = '';
    for (const e of entries) {
      if (!e) continue;
      const line = decisionLine(e.event, e.time, replayable) as unknown as Record<string, unknown>;
      chunk += JSON.stringify(mask ? mask(line) : line) + '\n';
    }
    return chunk;
  };
  const take = (n: number): Entry[] => {
    const batch = queue.splice(0, n);
    allowScan = Math.max(0, allowScan - batch.length);
    for (const e of batch) {
      if (!e) continue;
      live--;
      if (isAllow(e)) allows--;
    }
    return batch;
  };
  /** Drops the oldest waiting ALLOW; false when none waits. */
  const evictAllow = (): boolean => {
    if (allows === 0) return false;
    for (; allowScan < queue.length; allowScan++) {
      if (isAllow(queue[allowScan]!)) {
        queue[allowScan++] = null;
        live--;
        allows--;
        drop();
        return true;
      }
    }
    return false;
  };
  const write = (chunk: string): boolean => {
    if (spool && deps.sink.writeConfirmed) {
      const id = ++chunkSeq;
      unconfirmed.set(id, chunk);
      return deps.sink.writeConfirmed(chunk, () => unconfirmed.delete(id));
    }
    return deps.sink.write(chunk);
  };
  const pending = () => live > 0 || (spool !== undefined && spool.bytes > 0);

  const settle = () => {
    if (pending()) return;
    const w = waiters;
    waiters = [];
    w.forEach((resolve) => resolve());
  };

  /** One batch per turn of the event loop, so a long queue never holds up requests. */
  const drain = () => {
    scheduled = false;
    if (!blocked && pending()) {
      let full = false;
      if (spool && spool.bytes > 0) {
        // The spool's lines are older than anything in memory: they go first.
        const chunk = spool.peek(SPOOL_READ)!;
        try {
          full = !write(chunk);
          spool.consumed();
        } catch {
          // A destination that throws (closed, destroyed): what stays in the spool waits for a restart.
          return settle();
        }
      } else {
        const batch = take(BATCH);
        try {
          full = !write(serialize(batch));
        } catch {
          // A destination that throws (closed, destroyed) loses this batch; it is counted, never raised.
          drop(batch.filter(Boolean).length);
        }
      }
      if (full) {
        blocked = true;
        deps.sink.once('drain', () => {
          blocked = false;
          drain();
        });
      } else if (pending()) schedule();
    }
    settle();
  };

  const schedule = () => {
    if (scheduled || blocked) return;
    scheduled = true;
    setImmediate(drain);
  };

  /** Moves the oldest waiting records to the spool; false when the spool is at its bound. */
  const spill = (): boolean => {
    if (!spool) return false;
    const n = Math.min(BATCH, queue.length);
    const chunk = serialize(queue.slice(0, n));
    if (!spool.append(chunk)) return false;
    take(n);
    return true;
  };

  // Lines a previous process left in the spool are written out first.
  if (spool && spool.bytes > 0) schedule();

  return {
    get dropped() {
      return dropped;
    },
    get spooledBytes() {
      return spool?.bytes ?? 0;
    },
    onDecision(event) {
      if (event.decision.decision === 'ALLOW') {
        if (options.onlyDenies) return;
        if (options.allowSampleRate < 1 && random() >= options.allowSampleRate) return;
      }
      if (live >= options.bufferSize && !spill()) {
        // Full, nowhere to spill: an ALLOW goes before a DENY.
        if (event.decision.decision === 'ALLOW' || !evictAllow()) return drop();
      }
      queue.push({ event, time: now() });
      live++;
      if (event.decision.decision === 'ALLOW') allows++;
      schedule();
    },
    flush() {
      if (!pending()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        if (!blocked) drain();
      });
    },
    close() {
      if (!spool) return;
      // Oldest first: what the sink still held in this process, then what waited in memory.
      spool.prepend(unwritten([...unconfirmed.values()].join(''), deps.sink.pendingBytes?.()));
      unconfirmed.clear();
      if (live) spool.append(serialize(take(queue.length)), true);
      queue = [];
      spool.close();
    },
  };
}

/**
 * Of the chunks the sink took and has not confirmed, what has not reached the kernel: the pipe may
 * have taken the first part of the first chunk, so it starts again one line before the point
 * reached (a line the reader may have seen cut short, and one more in case the sink counts
 * characters rather than bytes): a duplicate line rather than a lost one.
 */
function unwritten(text: string, pending: number | undefined): string {
  if (pending === undefined || !text) return text;
  const written = Math.max(0, Buffer.byteLength(text) - pending);
  if (written === 0) return text;
  // Character offsets equal byte offsets for ASCII lines; the extra line covers the rest.
  let start = text.lastIndexOf('\n', Math.min(written, text.length) - 1);
  start = start <= 0 ? 0 : text.lastIndexOf('\n', start - 1) + 1;
  return text.slice(start);
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
    if (/^(context|principal|action|resource)([.[]|$)/.test(path))
      out.push({ path: `request.${path}`, name: path });
  }
  return out;
}
