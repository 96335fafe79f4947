import { describe, expect, it } from 'vitest';
import type { EngineAnswer, EngineRequest } from '../core/engine.js';
import { classifyLine } from './log-line.js';
import { Replayer } from './replay.js';

const request = {
  principal: { type: 'User', id: 'alice' },
  action: { type: 'Action', id: 'read' },
  resource: { type: 'Doc', id: 'd1' },
  context: { n: 1 },
  entities: [{ uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [] }],
};

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    type: 'decision',
    decisionId: 'd-1',
    decision: 'DENY',
    determiningPolicies: [],
    reason: null,
    store: 'docs',
    request,
    masked: [],
    ...fields,
  });

describe('classifyLine', () => {
  it('replays a complete line and skips every other kind with its reason', () => {
    expect(classifyLine(line({}))).toMatchObject({ kind: 'replay', item: { store: 'docs', request } });
    expect(classifyLine('{"level":30,"msg":"listening"}')).toEqual({ kind: 'other' });
    expect(classifyLine('not json "decision"')).toEqual({ kind: 'other' });
    expect(classifyLine(line({ request: undefined }))).toMatchObject({
      reason: 'logged without decisionLog.replayable',
    });
    expect(classifyLine(line({ request: null, reason: 'invalid_token' }))).toMatchObject({
      reason: 'denied before reaching a store (invalid_token)',
    });
    expect(classifyLine(line({ reason: 'engine_unavailable' }))).toMatchObject({
      reason: 'not decided by its store (engine_unavailable)',
    });
    expect(classifyLine(line({ masked: ['context.card', 'reason'] }))).toMatchObject({
      reason: 'masked: context.card',
    });
    // A mask on a field the store was not asked about does not stop a replay.
    expect(classifyLine(line({ masked: ['reason'] }))).toMatchObject({ kind: 'replay' });
    expect(classifyLine(line({ request: { ...request, entities: [{ uid: 'x' }] } }))).toMatchObject({
      reason: 'malformed decision line',
    });
  });
});

describe('Replayer', () => {
  const candidate = (answer: (r: EngineRequest) => EngineAnswer | Error) => ({
    name: 'docs',
    async decide(requests: EngineRequest[]) {
      return requests.map((r) => {
        const a = answer(r);
        if (a instanceof Error) throw a;
        return a;
      });
    },
  });
  const allow = (policies: string[]): EngineAnswer => ({
    kind: 'evaluated',
    allow: true,
    determiningPolicies: policies,
    errors: [],
    storeVersion: 'v2',
  });

  it('groups flips by direction and cause, batches per store, and counts the rest', async () => {
    const replayer = new Replayer(new Map([['docs', candidate(() => allow(['p2', 'p1']))]]), {
      batchSize: 2,
      examples: 2,
    });
    for (let i = 0; i < 5; i++) await replayer.add(line({ decisionId: `deny-${i}` }));
    await replayer.add(line({ decisionId: 'allow-1', decision: 'ALLOW', determiningPolicies: ['p1', 'p2'] }));
    await replayer.add(line({ decisionId: 'allow-2', decision: 'ALLOW', determiningPolicies: ['p0'] }));
    await replayer.add(line({ decisionId: 'other-store', store: 'billing' }));
    const report = await replayer.finish();
    expect(report).toMatchObject({
      lines: 8,
      decisions: 8,
      replayed: 7,
      unchanged: 2,
      samePoliciesChanged: 1,
    });
    expect(report.denyToAllow).toEqual({
      count: 5,
      groups: [{ now: ['p1', 'p2'], was: [], count: 5, examples: ['deny-0', 'deny-1'] }],
    });
    expect(report.allowToDeny.count).toBe(0);
    expect(report.skipped).toEqual([
      { reason: 'no candidate for store billing', count: 1, examples: ['other-store'] },
    ]);
  });

  it('an invalid answer is a DENY; a failing candidate is a skip, never a flip', async () => {
    const replayer = new Replayer(
      new Map([
        [
          'docs',
          candidate((r) =>
            r.context.n === 1
              ? { kind: 'invalid', message: 'no such attribute', storeVersion: 'v2' }
              : new Error('boom'),
          ),
        ],
      ]),
    );
    await replayer.add(line({ decision: 'ALLOW', determiningPolicies: ['p'] }));
    const report = await replayer.finish();
    expect(report.allowToDeny.groups).toEqual([
      { now: ['(invalid for the candidate: no such attribute)'], was: ['p'], count: 1, examples: ['d-1'] },
    ]);
    const failing = new Replayer(new Map([['docs', candidate(() => new Error('boom'))]]));
    await failing.add(line({}));
    expect(await failing.finish()).toMatchObject({
      replayed: 0,
      skipped: [{ reason: 'the candidate failed: boom', count: 1 }],
    });
  });
});
