import { describe, expect, it } from 'vitest';
import { evaluatedAnswer, fakeStore } from '../../test/support/fake-store.js';
import type { Decision, DecisionRequest } from '../core/decision.js';
import type { EngineAnswer, EngineRequest } from '../core/engine.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { createShadowing, type ShadowFlip, type ShadowResult } from './shadow.js';

const request = (id: string): DecisionRequest => ({
  subject: { kind: 'principal', principal: { type: 'User', id: 'alice' } },
  store: 'docs',
  action: { type: 'Action', id: 'read' },
  resource: { type: 'Doc', id },
  context: {},
  entities: [],
});

function recorder() {
  const results: [string, ShadowResult][] = [];
  const flips: ShadowFlip[] = [];
  const errors: string[] = [];
  return {
    results,
    flips,
    errors,
    reporter: {
      result: (store: string, r: ShadowResult) => void results.push([store, r]),
      flip: (f: ShadowFlip) => void flips.push(f),
      error: (_s: string, id: string, m: string) => void errors.push(`${id}: ${m}`),
    },
  };
}

/** A candidate store: ALLOW for docs whose id starts with "open", DENY otherwise. */
function candidate(
  answer: (r: EngineRequest) => EngineAnswer = (r) => evaluatedAnswer(r.resource.id.startsWith('open'), 'v2'),
) {
  const { store } = fakeStore(answer);
  return store;
}

describe('shadow stores', () => {
  it('decides live decisions again off the request path and reports each flip with its decision id', async () => {
    const { stores } = fakeStore((r) => evaluatedAnswer(r.resource.id !== 'open-2'));
    const rec = recorder();
    const shadowing = createShadowing(
      [{ store: 'docs', engine: candidate(), source: 'candidate/', sampleRate: 1, queueSize: 100 }],
      rec.reporter,
    );
    const pipeline = createPipeline({ stores, observers: [shadowing] });
    const live: Decision[] = [];
    for (const id of ['open-1', 'open-2', 'closed-1']) live.push(await pipeline.decide(request(id)));
    // The live answers are the live store's, and nothing was shadowed yet: that happens later.
    expect(live.map((d) => d.decision)).toEqual(['ALLOW', 'DENY', 'ALLOW']);
    expect(rec.results).toEqual([]);
    await shadowing.idle();
    expect(rec.results).toEqual([
      ['docs', 'same'],
      ['docs', 'deny_to_allow'],
      ['docs', 'allow_to_deny'],
    ]);
    expect(rec.flips).toEqual([
      expect.objectContaining({
        decisionId: live[1]!.decisionId,
        result: 'deny_to_allow',
        live: { decision: 'DENY', determiningPolicies: [] },
        shadow: { decision: 'ALLOW', determiningPolicies: ['p'], storeVersion: 'v2' },
      }),
      expect.objectContaining({ decisionId: live[2]!.decisionId, result: 'allow_to_deny' }),
    ]);
    expect(shadowing.readiness.check()).toEqual({
      ready: true,
      detail: {
        docs: expect.objectContaining({
          source: 'candidate/',
          version: 'v1',
          shadowed: 3,
          results: { same: 1, deny_to_allow: 1, allow_to_deny: 1, error: 0, dropped: 0 },
        }),
      },
    });
  });

  it('samples, bounds its queue, and leaves other stores and undecided requests alone', async () => {
    const { stores } = fakeStore();
    const rec = recorder();
    let draws = 0;
    const shadowing = createShadowing(
      [{ store: 'docs', engine: candidate(), source: 'c', sampleRate: 0.5, queueSize: 2 }],
      rec.reporter,
      { random: () => (draws++ % 2 ? 0.9 : 0.1) },
    );
    const pipeline = createPipeline({ stores, observers: [shadowing] });
    for (let i = 0; i < 8; i++) await pipeline.decide(request(`open-${i}`));
    await pipeline.decide({ ...request('x'), store: 'unknown' });
    await shadowing.idle();
    // 8 draws, 4 sampled; no turn of the event loop passes between these in-process decisions, so
    // the queue of 2 fills and the other 2 are dropped (never waited for).
    expect(draws).toBe(8);
    expect(rec.results).toEqual([
      ['docs', 'dropped'],
      ['docs', 'dropped'],
      ['docs', 'same'],
      ['docs', 'same'],
    ]);
  });

  it('a candidate that cannot decide is an error, never a flip, and the live answer stands', async () => {
    const { stores } = fakeStore();
    const rec = recorder();
    const broken = candidate(() => ({
      kind: 'failed',
      reason: 'engine_unavailable',
      message: 'no version loaded',
    }));
    const shadowing = createShadowing(
      [{ store: 'docs', engine: broken, source: 'c', sampleRate: 1, queueSize: 10 }],
      rec.reporter,
    );
    const pipeline = createPipeline({ stores, observers: [shadowing] });
    const d = await pipeline.decide(request('open-1'));
    expect(d.decision).toBe('ALLOW');
    await shadowing.idle();
    expect(rec.results).toEqual([['docs', 'error']]);
    expect(rec.errors).toEqual([`${d.decisionId}: no version loaded`]);
    expect(rec.flips).toEqual([]);
  });
});
