import { describe, expect, it } from 'vitest';
import { createDecisionCache } from '../cache/decision-cache.js';
import { evaluatedAnswer, fakeStore } from '../../test/support/fake-store.js';
import { AuthzError } from '../core/errors.js';
import type { DecisionRequest } from '../core/decision.js';
import type { Identifier } from '../identity/types.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { createDecisionLog, type DecisionLogOptions } from './decision-log.js';
import type { LogSink } from './log-sink.js';

const TOKEN = 'SECRET.eyJzdWIiOiJhbGljZSJ9.SIGNATURE-never-logged';

const options: DecisionLogOptions = {
  onlyDenies: false,
  allowSampleRate: 1,
  maskPaths: [],
  bufferSize: 100,
  replayable: true,
};

function memorySink() {
  const chunks: string[] = [];
  const sink: LogSink = { write: (c) => (chunks.push(c), true), once: () => undefined };
  return { sink, text: () => chunks.join(''), lines: () => chunks.join('').split('\n').filter(Boolean) };
}

/** Alice from a token, with a group and a claim the store is given as context. */
const identifier: Identifier = {
  async identify(token) {
    if (!token?.startsWith('SECRET')) throw new AuthzError('invalid_signature');
    return {
      type: 'user',
      issuer: 'test',
      principal: {
        uid: { type: 'User', id: 'alice' },
        attrs: { department: 'ops' },
        parents: [{ type: 'Group', id: 'admins' }],
      },
      protectedTypes: ['User'],
      protectedContextKeys: ['mfa'],
      context: { mfa: true },
      claims: { raw: token },
    };
  },
};

const request = (context: DecisionRequest['context'] = {}, token = TOKEN): DecisionRequest => ({
  subject: { kind: 'token', token },
  store: 'docs',
  action: { type: 'Action', id: 'read' },
  resource: { type: 'Doc', id: 'd1' },
  context,
  entities: [{ uid: { type: 'Doc', id: 'd1' }, attrs: { owner: 'bob' }, parents: [] }],
});

describe('replayable decision log', () => {
  it('records the request as its store saw it (token principal and claims joined), never the token', async () => {
    const out = memorySink();
    const log = createDecisionLog(options, { sink: out.sink });
    const { stores } = fakeStore();
    const pipeline = createPipeline({ stores, identifier, observers: [log] });
    await pipeline.decide(request({ amount: 10 }));
    await pipeline.decide(request({}, 'bad-token'));
    await log.flush();
    const [evaluated, refused] = out.lines().map((l) => JSON.parse(l));
    expect(evaluated.request).toEqual({
      principal: { type: 'User', id: 'alice' },
      action: { type: 'Action', id: 'read' },
      resource: { type: 'Doc', id: 'd1' },
      context: { amount: 10, mfa: true },
      entities: [
        {
          uid: { type: 'User', id: 'alice' },
          attrs: { department: 'ops' },
          parents: [{ type: 'Group', id: 'admins' }],
        },
        { uid: { type: 'Doc', id: 'd1' }, attrs: { owner: 'bob' }, parents: [] },
      ],
    });
    expect(evaluated.masked).toEqual([]);
    // Denied before it reached a store: nothing to decide again.
    expect(refused).toMatchObject({ reason: 'invalid_signature', request: null, masked: [] });
    expect(out.text()).not.toContain('SECRET');
  });

  it('records a cache hit like an evaluated decision', async () => {
    const out = memorySink();
    const log = createDecisionLog(options, { sink: out.sink });
    const { stores } = fakeStore(() => evaluatedAnswer(false));
    const cache = createDecisionCache({ maxEntries: 10, allowTtlMs: 60_000, denyTtlMs: 60_000 });
    const pipeline = createPipeline({ stores, identifier, cache, observers: [log] });
    await pipeline.decide(request());
    const second = await pipeline.decide(request());
    await log.flush();
    expect(second.cached).toBe(true);
    const lines = out.lines().map((l) => JSON.parse(l));
    expect(lines[1].request).toEqual(lines[0].request);
    expect(lines[1].request.principal).toEqual({ type: 'User', id: 'alice' });
  });

  it('masks a context path in the recorded request too, and says which paths hid a value', async () => {
    const out = memorySink();
    const log = createDecisionLog(
      { ...options, maskPaths: ['context.card', 'context.absent', 'request.entities[*].attrs.owner'] },
      { sink: out.sink },
    );
    const { stores } = fakeStore();
    const pipeline = createPipeline({ stores, identifier, observers: [log] });
    await pipeline.decide(request({ card: '4111', amount: 3 }));
    await log.flush();
    const [line] = out.lines().map((l) => JSON.parse(l));
    expect(line.context).toEqual({ card: '***', amount: 3 });
    expect(line.request.context).toEqual({ card: '***', amount: 3, mfa: true });
    expect(line.request.entities[1].attrs.owner).toBe('***');
    expect(line.masked).toEqual(['context.card', 'request.entities[*].attrs.owner']);
    expect(out.text()).not.toContain('4111');
  });

  it('leaves lines as they were without the option', async () => {
    const out = memorySink();
    const log = createDecisionLog({ ...options, replayable: false }, { sink: out.sink });
    const { stores } = fakeStore();
    const pipeline = createPipeline({ stores, identifier, observers: [log] });
    await pipeline.decide(request());
    await log.flush();
    const [line] = out.lines().map((l) => JSON.parse(l));
    expect(line).not.toHaveProperty('request');
    expect(line).not.toHaveProperty('masked');
  });
});
