import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fakeStore } from '../../test/support/fake-store.js';
import { AuthzError, StartupError } from '../core/errors.js';
import type { Identifier } from '../identity/types.js';
import { createPipeline, type DecisionEvent } from '../pipeline/pipeline.js';
import type { Decision, DecisionRequest } from '../core/decision.js';
import { createDecisionLog, type DecisionLogOptions } from './decision-log.js';
import type { LogSink } from './log-sink.js';

const TOKEN = 'SECRET.eyJzdWIiOiJhbGljZSJ9.SIGNATURE-never-logged';

const defaults: DecisionLogOptions = {
  onlyDenies: false,
  allowSampleRate: 1,
  maskPaths: [],
  bufferSize: 100,
};

/** A sink that keeps what it is given and is never full. */
function memorySink() {
  const chunks: string[] = [];
  const sink: LogSink = { write: (c) => (chunks.push(c), true), once: () => undefined };
  return { sink, text: () => chunks.join(''), lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const request = (context: DecisionRequest['context'] = {}): DecisionRequest => ({
  subject: { kind: 'token', token: TOKEN },
  store: 'docs',
  action: { type: 'Action', id: 'read' },
  resource: { type: 'Doc', id: 'd1' },
  context,
  entities: [],
});

const event = (decision: 'ALLOW' | 'DENY', context: DecisionRequest['context'] = {}): DecisionEvent => {
  const d: Decision = {
    decision,
    decisionId: `id-${Math.random()}`,
    determiningPolicies: decision === 'ALLOW' ? ['p'] : [],
    errors: [],
    cached: false,
    store: 'docs',
    storeVersion: 'v1',
  };
  return { request: request(context), decision: d, durationSeconds: 0.000123 };
};

/** Accepts a token `SECRET...` as user alice; anything else is a bad signature. */
const identifier: Identifier = {
  async identify(token) {
    if (!token?.startsWith('SECRET')) throw new AuthzError('invalid_signature');
    return {
      type: 'user',
      issuer: 'test',
      principal: { uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [] },
      protectedTypes: ['User'],
      protectedContextKeys: [],
      context: { token_raw_should_not_leak: 'claims are not logged' },
      claims: { raw: token },
    };
  },
};

describe('decision log', () => {
  it('writes one JSON line per decision with the documented fields, and never the token', async () => {
    const out = memorySink();
    const log = createDecisionLog(defaults, { sink: out.sink, now: () => Date.UTC(2025, 0, 2, 3, 4, 5) });
    const { stores } = fakeStore();
    const pipeline = createPipeline({ stores, identifier, observers: [log] });
    const allowed = await pipeline.decide(request({ amount: 10 }));
    const failed = await pipeline.decide({ ...request(), subject: { kind: 'token', token: `x${TOKEN}` } });
    await log.flush();

    const [first, second] = out.lines().map((l) => JSON.parse(l));
    expect(out.lines()).toHaveLength(2);
    expect(first).toEqual({
      type: 'decision',
      time: '2025-01-02T03:04:05.000Z',
      decisionId: allowed.decisionId,
      callerType: 'user',
      principal: 'User::"alice"',
      action: 'Action::"read"',
      resource: 'Doc::"d1"',
      decision: 'ALLOW',
      determiningPolicies: ['p'],
      errors: [],
      reason: null,
      store: 'docs',
      storeVersion: 'v1',
      cached: false,
      durationMs: expect.any(Number),
      context: { amount: 10 },
    });
    expect(second).toMatchObject({
      decisionId: failed.decisionId,
      decision: 'DENY',
      reason: 'invalid_signature',
      principal: null,
      store: null,
    });
    expect(out.text()).not.toContain('SECRET');
    expect(out.text()).not.toContain('SIGNATURE');
  });

  it('masks the configured paths', async () => {
    const out = memorySink();
    const log = createDecisionLog(
      { ...defaults, maskPaths: ['context.accountNumber', 'context.card.*'] },
      { sink: out.sink },
    );
    log.onDecision(
      event('ALLOW', { accountNumber: 'GB29NWBK60161331926819', card: { pan: '4111', cvv: '123' }, ok: 1 }),
    );
    await log.flush();
    expect(JSON.parse(out.lines()[0]!).context).toEqual({
      accountNumber: '***',
      card: { pan: '***', cvv: '***' },
      ok: 1,
    });
    expect(out.text()).not.toContain('GB29NWBK');
  });

  it('rejects a mask path pino cannot use, naming the config key', () => {
    expect(() => createDecisionLog({ ...defaults, maskPaths: ['context..x'] }, memorySink())).toThrow(
      StartupError,
    );
    expect(() => createDecisionLog({ ...defaults, maskPaths: ['context..x'] }, memorySink())).toThrow(
      /decisionLog\.maskPaths/,
    );
  });

  it('logs only denies, or a sample of allows, when configured', async () => {
    const only = memorySink();
    const onlyDenies = createDecisionLog({ ...defaults, onlyDenies: true }, { sink: only.sink });
    const sampled = memorySink();
    const draws = [0.1, 0.6, 0.2, 0.9];
    const sampling = createDecisionLog(
      { ...defaults, allowSampleRate: 0.5 },
      { sink: sampled.sink, random: () => draws.shift()! },
    );
    for (const log of [onlyDenies, sampling]) {
      for (const d of ['ALLOW', 'ALLOW', 'DENY', 'ALLOW', 'ALLOW'] as const) log.onDecision(event(d));
      await log.flush();
    }
    expect(only.lines().map((l) => JSON.parse(l).decision)).toEqual(['DENY']);
    // Allows drawn 0.1 and 0.2 are kept, 0.6 and 0.9 are not; the deny draws nothing.
    expect(sampled.lines().map((l) => JSON.parse(l).decision)).toEqual(['ALLOW', 'DENY', 'ALLOW']);
  });

  it('never blocks on a stuck sink: it buffers up to its bound and counts every drop', async () => {
    let writes = 0;
    const stuck = new Writable({
      highWaterMark: 1,
      write() {
        writes++; // never calls back: the destination is stuck
      },
    });
    let dropsCounted = 0;
    const log = createDecisionLog(
      { ...defaults, bufferSize: 5 },
      {
        sink: { write: (c) => stuck.write(c), once: (e, l) => stuck.once(e, l) },
        onDrop: () => dropsCounted++,
      },
    );
    log.onDecision(event('DENY'));
    await new Promise((r) => setImmediate(r)); // the first line goes out; the sink is now full
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) log.onDecision(event('DENY'));
    expect(performance.now() - started).toBeLessThan(1_000);
    await new Promise((r) => setImmediate(r));
    expect(writes).toBe(1);
    expect(log.dropped).toBe(10_000 - 5);
    expect(dropsCounted).toBe(log.dropped);
  });

  it('writes what it buffered once a slow sink drains', async () => {
    const out: string[] = [];
    let release: (() => void) | undefined;
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk, _enc, cb) {
        out.push(String(chunk));
        release = cb;
      },
    });
    const log = createDecisionLog(
      { ...defaults, bufferSize: 3 },
      { sink: { write: (c) => slow.write(c), once: (e, l) => slow.once(e, l) } },
    );
    log.onDecision(event('DENY'));
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) log.onDecision(event('DENY'));
    expect(log.dropped).toBe(2);
    const flushed = log.flush();
    release!();
    await flushed;
    expect(out.join('').split('\n').filter(Boolean)).toHaveLength(4);
  });
});
