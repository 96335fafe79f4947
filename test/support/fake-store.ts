import type { EngineAnswer, EngineRequest, StoreEngine } from '../../src/core/engine.js';
import type { StoreRegistry } from '../../src/engines/registry.js';

/** An evaluated answer from the fake store. */
export const evaluatedAnswer = (allow: boolean, storeVersion = 'v1'): EngineAnswer => ({
  kind: 'evaluated',
  allow,
  determiningPolicies: allow ? ['p'] : [],
  errors: [],
  storeVersion,
});

export type FakeStore = StoreEngine & {
  version: string | undefined;
  answer: (r: EngineRequest) => EngineAnswer;
};

/** A store named `docs` whose answers and version a test controls; `seen` records what reached it. */
export function fakeStore(answer: (r: EngineRequest) => EngineAnswer = () => evaluatedAnswer(true)) {
  const seen: EngineRequest[] = [];
  const store: FakeStore = {
    name: 'docs',
    engine: 'fake',
    version: 'v1',
    answer,
    status: () => ({
      name: 'docs',
      engine: 'fake',
      ready: true,
      ...(store.version ? { version: store.version } : {}),
    }),
    servingVersion: () => store.version,
    async decide(requests) {
      seen.push(...requests);
      return requests.map((r) => store.answer(r));
    },
    async close() {},
  };
  const stores: StoreRegistry = {
    get: (n) => (n === 'docs' ? store : undefined),
    shadows: () => [],
    names: () => ['docs'],
    statuses: () => [store.status()],
    ready: () => true,
    start: async () => {},
    close: async () => {},
  };
  return { store, stores, seen };
}
