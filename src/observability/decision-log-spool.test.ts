import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp.js';
import type { Decision } from '../core/decision.js';
import type { DecisionEvent } from '../pipeline/pipeline.js';
import { createDecisionLog, type DecisionLogOptions } from './decision-log.js';
import type { LogSink } from './log-sink.js';
import { openSpool } from './log-spool.js';

const temp = tempDir('decision-log-spool-');
afterAll(() => temp.remove());

const options = (extra: Partial<DecisionLogOptions> = {}): DecisionLogOptions => ({
  onlyDenies: false,
  allowSampleRate: 1,
  maskPaths: [],
  bufferSize: 4,
  ...extra,
});

let n = 0;
const event = (decision: 'ALLOW' | 'DENY', id = `${decision}-${n++}`): DecisionEvent => {
  const d: Decision = { decision, decisionId: id, determiningPolicies: [], errors: [], cached: false };
  return {
    request: {
      subject: { kind: 'principal', principal: { type: 'User', id: 'u' } },
      action: { type: 'Action', id: 'a' },
      resource: { type: 'Doc', id: 'd' },
      context: {},
      entities: [],
    },
    decision: d,
    durationSeconds: 0,
  };
};

/**
 * A destination a test stalls and resumes: while stalled, `write` takes the chunk into its own
 * buffer (unconfirmed, like a pipe's writer holding what the kernel refused) and reports full.
 */
function controllableSink() {
  const delivered: string[] = [];
  const held: { chunk: string; done?: () => void }[] = [];
  let stalled = false;
  let onDrain: (() => void) | undefined;
  const take = (chunk: string, done?: () => void) => {
    if (stalled) {
      held.push({ chunk, ...(done ? { done } : {}) });
      return false;
    }
    delivered.push(chunk);
    done?.();
    return true;
  };
  const sink: LogSink = {
    write: (c) => take(c),
    writeConfirmed: (c, done) => take(c, done),
    once: (_e, l) => void (onDrain = l),
  };
  return {
    sink,
    stall: () => void (stalled = true),
    resume() {
      stalled = false;
      for (const h of held.splice(0)) {
        delivered.push(h.chunk);
        h.done?.();
      }
      const l = onDrain;
      onDrain = undefined;
      l?.();
    },
    ids: () =>
      delivered
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).decisionId as string),
  };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('decision log: a full buffer drops an ALLOW before a DENY', () => {
  it('a DENY takes the place of the oldest waiting ALLOW; a DENY goes only when all waiting are DENYs', async () => {
    const out = controllableSink();
    const drops: number[] = [];
    const log = createDecisionLog(options(), { sink: out.sink, onDrop: () => drops.push(1) });
    out.stall();
    log.onDecision(event('DENY', 'first'));
    await turn(); // written into the stalled sink: the log now waits for drain
    for (const [d, id] of [
      ['ALLOW', 'a1'],
      ['DENY', 'd1'],
      ['ALLOW', 'a2'],
      ['DENY', 'd2'],
    ] as const)
      log.onDecision(event(d, id));
    log.onDecision(event('ALLOW', 'a3')); // full: this ALLOW is dropped
    log.onDecision(event('DENY', 'd3')); // evicts a1
    log.onDecision(event('DENY', 'd4')); // evicts a2
    log.onDecision(event('DENY', 'd5')); // all waiting are DENYs: d5 is dropped
    expect(log.dropped).toBe(4);
    expect(drops).toHaveLength(4);
    out.resume();
    await log.flush();
    expect(out.ids()).toEqual(['first', 'd1', 'd2', 'd3', 'd4']);
  });
});

describe('decision log: onFull spool', () => {
  const spoolFile = (name: string) => path.join(temp.dir, `${name}.spool`);

  it('spools while the destination stalls and writes everything out in order when it recovers', async () => {
    const out = controllableSink();
    const spool = openSpool({ file: spoolFile('order'), maxBytes: 1 << 20 });
    const log = createDecisionLog(options({ onFull: 'spool' }), { sink: out.sink, spool });
    out.stall();
    const ids = Array.from({ length: 50 }, (_, i) => `d-${i}`);
    log.onDecision(event('ALLOW', ids[0]));
    await turn();
    for (const id of ids.slice(1)) log.onDecision(event(id.endsWith('7') ? 'DENY' : 'ALLOW', id));
    expect(log.dropped).toBe(0);
    expect(log.spooledBytes).toBeGreaterThan(0);
    // More arrive while the spool is being written out: they still come after it.
    out.resume();
    log.onDecision(event('ALLOW', 'late'));
    await log.flush();
    expect(out.ids()).toEqual([...ids, 'late']);
    expect(log.spooledBytes).toBe(0);
    expect(readFileSync(spoolFile('order'), 'utf8')).toBe('');
  });

  it('at close keeps what the destination has not taken, and the next start writes it out first', async () => {
    const file = spoolFile('restart');
    const first = controllableSink();
    const log1 = createDecisionLog(options({ onFull: 'spool' }), {
      sink: first.sink,
      spool: openSpool({ file, maxBytes: 1 << 20 }),
    });
    first.stall();
    for (let i = 0; i < 12; i++) {
      log1.onDecision(event('ALLOW', `r-${i}`));
      if (i === 0) await turn();
    }
    log1.close(); // the stalled sink's held chunk (r-0) and the memory queue go to the spool
    expect(first.ids()).toEqual([]);

    const second = controllableSink();
    const log2 = createDecisionLog(options({ onFull: 'spool' }), {
      sink: second.sink,
      spool: openSpool({ file, maxBytes: 1 << 20 }),
    });
    log2.onDecision(event('ALLOW', 'new'));
    await log2.flush();
    expect(second.ids()).toEqual([...Array.from({ length: 12 }, (_, i) => `r-${i}`), 'new']);
  });

  it('a full spool drops, ALLOW first, and counts', async () => {
    const out = controllableSink();
    const log = createDecisionLog(options({ onFull: 'spool' }), {
      sink: out.sink,
      spool: openSpool({ file: spoolFile('bound'), maxBytes: 300 }),
    });
    out.stall();
    log.onDecision(event('ALLOW', 'x'));
    await turn();
    for (let i = 0; i < 20; i++) log.onDecision(event(i % 7 === 3 ? 'DENY' : 'ALLOW', `b-${i}`));
    expect(log.dropped).toBeGreaterThan(0);
    out.resume();
    await log.flush();
    const ids = out.ids();
    expect(ids.length + log.dropped).toBe(21);
    // Every DENY made it (fewer than the room there is): only ALLOWs were dropped.
    for (const i of [3, 10, 17]) expect(ids).toContain(`b-${i}`);
  });

  it('discards a line cut short by a crash, and says so', () => {
    const file = spoolFile('torn');
    appendFileSync(file, '{"decisionId":"whole"}\n{"decisionId":"cut sh');
    let torn = 0;
    const spool = openSpool({ file, maxBytes: 1 << 20, onTornLine: () => torn++ });
    expect(torn).toBe(1);
    expect(spool.peek(1 << 16)).toBe('{"decisionId":"whole"}\n');
    spool.consumed();
    expect(spool.bytes).toBe(0);
    spool.close();
  });
});
