import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EngineAnswer, EngineRequest } from '../../src/core/engine.js';
import { LocalStoreEngine, type LocalEngineOptions } from '../../src/engines/local.js';
import type { SliceFaults } from '../../src/policy/slicing/entity-graph.js';
import { describe, expect, it } from 'vitest';
import { generateTenantStore, rng, sampleRequest } from '../../scripts/gen-tenants.mjs';

/** An answer with determining policies and errors as sorted lists: the comparison is on sets. */
export function normalize(answer: EngineAnswer, messages = true): unknown {
  if (!messages) {
    // Across evaluators only what Cedar's conformance compares: decision, reason ids, error ids,
    // and whether the request was rejected (messages are each evaluator's own words).
    if (answer.kind !== 'evaluated') return { kind: answer.kind };
    return {
      kind: answer.kind,
      allow: answer.allow,
      storeVersion: answer.storeVersion,
      determiningPolicies: [...answer.determiningPolicies].sort(),
      errors: answer.errors.map((e) => e.policyId).sort(),
    };
  }
  if (answer.kind !== 'evaluated') return answer;
  return {
    ...answer,
    determiningPolicies: [...answer.determiningPolicies].sort(),
    errors: [...answer.errors]
      .map((e) => `${e.policyId}\u0000${e.message}`)
      .sort()
      .map((e) => {
        const [policyId, message] = e.split('\u0000');
        return { policyId, message };
      }),
  };
}

/** A short label of an answer, to show what a request mix covered. */
export function kindOf(answer: EngineAnswer): string {
  if (answer.kind !== 'evaluated') return answer.kind;
  return `${answer.allow ? 'allow' : 'deny'}${answer.errors.length ? '+errors' : ''}`;
}

let engines = 0;

/** A loaded engine over `dir`; each gets its own name, so no two share preparsed ids. */
export function engine(
  dir: string,
  mode: 'on' | 'off',
  extra: {
    faults?: SliceFaults;
    cacheSize?: number;
    stats?: LocalEngineOptions['stats'];
    evaluator?: LocalEngineOptions['evaluator'];
  } = {},
): LocalStoreEngine {
  const e = new LocalStoreEngine(`store-${mode}-${++engines}`, dir, {
    evaluator: extra.evaluator ?? 'wasm',
    slicing: { mode, autoThreshold: 0, cacheSize: extra.cacheSize ?? 5_000 },
    ...(extra.faults ? { faults: extra.faults } : {}),
    ...(extra.stats ? { stats: extra.stats } : {}),
  });
  e.load();
  return e;
}

/** Answers in batches (the engine's own batch API), normalized. */
export async function answers(
  e: LocalStoreEngine,
  requests: EngineRequest[],
  messages = true,
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < requests.length; i += 50) {
    for (const a of await e.decide(requests.slice(i, i + 50))) out.push(normalize(a, messages));
  }
  return out;
}

export function tempDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `authz-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `count` seeded requests of the differential mix (`edge`) against a generated store. */
export function edgeRequests(
  tenants: number,
  count: number,
  seed: number,
  staticHierarchy = false,
): EngineRequest[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => sampleRequest(r, tenants, { mix: 'edge', staticHierarchy }));
}

/** The first request whose answers differ (with how many differ in all), or undefined. */
export function firstMismatch(reference: unknown[], other: unknown[], requests: EngineRequest[]) {
  const differs = (i: number) => JSON.stringify(reference[i]) !== JSON.stringify(other[i]);
  const i = reference.findIndex((_, n) => differs(n));
  if (i < 0) return undefined;
  const mismatches = reference.filter((_, n) => differs(n)).length;
  return { request: requests[i], reference: reference[i], sliced: other[i], mismatches };
}

/** One case of the slicing differential: a gen-tenants store and the edge-request mix over it. */
export interface DifferentialCase {
  tenants: number;
  requests: number;
  timeout: number;
}

/**
 * The differential test of scope slicing over stores of the given sizes (slicing-differential.test.ts
 * runs the small one, the .long file the large ones): cedar-wasm unsliced is the reference; cedar-wasm
 * sliced must agree on everything (messages too), the native evaluator sliced and not on decision,
 * determining and erroring policy ids and rejections.
 */
export function slicingDifferential(cases: DifferentialCase[], tmp: { dir: string }): void {
  describe.each(cases)('slicing on vs off, $tenants tenants', ({ tenants, requests: count, timeout }) => {
    it(
      `gives identical answers on ${count} edge-case requests`,
      async () => {
        const dir = path.join(tmp.dir, `t${tenants}`);
        const store = generateTenantStore(dir, { tenants });
        expect(store.links).toBeGreaterThanOrEqual(tenants);
        const requests = edgeRequests(tenants, count, 1_000 + tenants);
        const sizes: number[] = [];
        const off = engine(dir, 'off');
        const on = engine(dir, 'on', {
          stats: { onDecision: (_s, n) => sizes.push(n), onCacheSize: () => {} },
        });
        expect(off.sliced).toBe(false);
        expect(on.sliced).toBe(true);

        const reference = await answers(off, requests);
        const sliced = await answers(on, requests);
        expect(firstMismatch(reference, sliced, requests)).toBeUndefined();
        // The native evaluator, sliced and not, against cedar-wasm unsliced (ids, not messages).
        const referenceIds = await answers(off, requests, false);
        for (const mode of ['off', 'on'] as const) {
          const native = engine(dir, mode, { evaluator: 'native' });
          expect(native.evaluator).toEqual({ evaluator: 'native' });
          expect(
            firstMismatch(referenceIds, await answers(native, requests, false), requests),
          ).toBeUndefined();
        }

        // The mix is not vacuous: it allows, denies, errors and rejects.
        const kinds = new Set(
          (reference as Parameters<typeof kindOf>[0][])
            .map((a) => kindOf(a))
            .map((k) => k.replace('+errors', '')),
        );
        expect([...kinds].sort()).toEqual(['allow', 'deny', 'invalid']);
        expect((reference as { errors?: unknown[] }[]).some((a) => (a.errors?.length ?? 0) > 0)).toBe(true);
        // And slices are small: a handful of the store's policies.
        const evaluated = sizes.filter((n) => n > 0);
        expect(Math.max(...sizes)).toBeLessThan(20);
        expect(evaluated.length).toBeGreaterThan(count / 2);
      },
      timeout,
    );
  });
}
