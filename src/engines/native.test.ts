import { describe, expect, it } from 'vitest';
import type { EngineAnswer } from '../core/engine.js';
import { compileMemoryStore } from '../policy/compile-memory.js';
import type { CompiledStore } from '../policy/types.js';
import { LocalStoreEngine, type Evaluator, type EvaluatorObserver } from './local.js';

/**
 * The native evaluator inside the local engine: it decides by default, falls back to cedar-wasm
 * (and says so) for a version it cannot compile, and its sampled verification catches a wrong
 * answer and moves the version to cedar-wasm.
 */
const schema = JSON.stringify({
  App: {
    entityTypes: { User: { shape: { type: 'Record', attributes: { level: { type: 'Long' } } } }, Doc: {} },
    actions: { read: { appliesTo: { principalTypes: ['User'], resourceTypes: ['Doc'] } } },
  },
});

const request = (level: number, decisionId?: string) => ({
  principal: { type: 'App::User', id: 'u1' },
  action: { type: 'App::Action', id: 'read' },
  resource: { type: 'App::Doc', id: 'd1' },
  context: {},
  entities: [{ uid: { type: 'App::User', id: 'u1' }, attrs: { level }, parents: [] }],
  ...(decisionId ? { decisionId } : {}),
});

function store(): CompiledStore {
  return compileMemoryStore('mem', {
    policies: {
      'senior-read':
        'permit (principal, action == App::Action::"read", resource) when { principal.level >= 5 };',
    },
    templates: {},
    links: [],
    schema,
    entities: [],
    origin: 'test',
  });
}

/** A copy whose JSON form (what the native evaluator compiles) differs from its text (what cedar-wasm runs). */
function tampered(edit: (json: Record<string, unknown>) => void): CompiledStore {
  const c = store();
  const json = structuredClone(c.json.policies['senior-read']) as unknown as Record<string, unknown>;
  edit(json);
  return { ...c, json: { ...c.json, policies: { 'senior-read': json as never } } };
}

function engine(evaluator: Evaluator, observer: EvaluatorObserver = {}, sampleRate = 0) {
  return new LocalStoreEngine('mem', undefined, {
    evaluator,
    verify: { sampleRate, onMismatch: 'switch' },
    evaluatorObserver: observer,
    idPrefix: `native-test:${Math.random()}`,
  });
}

const decide = async (e: LocalStoreEngine, level: number, id?: string): Promise<EngineAnswer> =>
  (await e.decide([request(level, id)]))[0]!;

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('the native evaluator in the local engine', () => {
  it('decides by default, with the same answers as cedar-wasm', async () => {
    const native = engine('native');
    native.activate(store());
    const wasm = engine('wasm');
    wasm.activate(store());
    expect(native.evaluator).toEqual({ evaluator: 'native' });
    expect(native.status()).toMatchObject({ evaluator: 'native' });
    expect(wasm.status()).toMatchObject({ evaluator: 'wasm' });
    for (const level of [1, 5, 9]) expect(await decide(native, level)).toEqual(await decide(wasm, level));
    expect((await decide(native, 7)) as { allow: boolean }).toMatchObject({ allow: true });
  });

  it('runs a version it cannot compile on cedar-wasm, and reports why (status, observer)', async () => {
    const serving: [string, string, string | undefined][] = [];
    const e = engine('native', { serving: (s, ev, reason) => serving.push([s, ev, reason]) });
    // A construct from a Cedar newer than this evaluator, in the JSON form only.
    e.activate(tampered((json) => ((json.conditions as { body: unknown }[])[0]!.body = { futureOp: {} })));
    expect(e.evaluator).toMatchObject({ evaluator: 'wasm', reason: expect.stringMatching(/unsupported/) });
    expect(e.status()).toMatchObject({
      evaluator: 'wasm',
      evaluatorFallback: expect.stringMatching(/senior-read/),
    });
    expect(serving).toEqual([['mem', 'wasm', expect.stringMatching(/unsupported/)]]);
    // cedar-wasm decides from the text: still Cedar's answers.
    expect(await decide(e, 7)).toMatchObject({ kind: 'evaluated', allow: true });
    expect(await decide(e, 1)).toMatchObject({ kind: 'evaluated', allow: false });
    // The next good version is native again.
    e.activate(store());
    expect(e.evaluator).toEqual({ evaluator: 'native' });
  });

  it('verification: a sampled disagreement is reported with the decision id, the answer already given stands, the version moves to wasm', async () => {
    const mismatches: { decisionId?: string }[] = [];
    const serving: string[] = [];
    const e = engine(
      'native',
      { mismatch: (_s, d) => mismatches.push(d), serving: (_s, ev) => serving.push(ev) },
      1,
    );
    // The native form says `level >= 50`: a wrong ALLOW→DENY for level 7 that only verification can see.
    e.activate(
      tampered((json) => {
        const body = (json.conditions as { body: { '>=': { right: { Value: number } } } }[])[0]!.body;
        body['>='].right.Value = 50;
      }),
    );
    const given = await decide(e, 7, 'decision-123');
    expect(given).toMatchObject({ allow: false }); // the native (wrong) answer went out unchanged
    expect(e.evaluator).toEqual({ evaluator: 'native' }); // not yet: the recheck runs later
    await flush();
    expect(mismatches).toEqual([
      expect.objectContaining({
        decisionId: 'decision-123',
        native: expect.objectContaining({ allow: false }),
      }),
    ]);
    expect(e.evaluator).toMatchObject({ evaluator: 'wasm', reason: expect.stringMatching(/disagreed/) });
    expect(serving).toEqual(['native', 'wasm']);
    expect(await decide(e, 7)).toMatchObject({ allow: true });
  });

  it('verification agrees silently when the answers are the same', async () => {
    const mismatches: unknown[] = [];
    const e = engine('native', { mismatch: (_s, d) => mismatches.push(d) }, 1);
    e.activate(store());
    for (const level of [1, 5, 9]) await decide(e, level);
    await flush();
    expect(mismatches).toEqual([]);
    expect(e.evaluator).toEqual({ evaluator: 'native' });
  });
});
