/**
 * Differential test: random Cedar expressions (deterministic seed), each pair of policies decided
 * by cedar-wasm and by the TypeScript evaluator on the shared fixture. Expressions are mostly
 * well-typed with a steady share of wrong types, missing attributes/entities and overflow, so error
 * paths are exercised as much as values.
 */
import { describe, expect, it } from 'vitest';
import { both } from './test-oracle.js';
import { CONTEXT, ENTITIES } from './test-fixture.js';

/** mulberry32: small, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Ty = 'bool' | 'long' | 'string' | 'entity' | 'set' | 'record' | 'ext';
const TYPES: Ty[] = ['bool', 'long', 'string', 'entity', 'set', 'record', 'ext'];

function generator(r: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const LONGS = [
    '0',
    '1',
    '-1',
    '5',
    '42',
    '9223372036854775807',
    '(-9223372036854775807 - 1)',
    '4611686018427387904',
    '9007199254740993',
    '3037000500',
  ];
  const STRS = ['""', '"a"', '"Alice"', '"hello*world"', '"é"', '"a b"'];
  const ENTS = [
    'principal',
    'resource',
    'action',
    'User::"alice"',
    'User::"bob"',
    'User::"nobody"',
    'Group::"staff"',
    'Org::"acme"',
    'Album::"all"',
    'principal.boss',
    'principal.ghost',
    'resource.owner',
    'Action::"read"',
  ];
  const ATTRS = [
    'name',
    'age',
    'tags',
    'addr',
    'boss',
    'ghost',
    'score',
    'ip',
    'born',
    'owner',
    'private',
    'size',
    'nope',
    'n',
    's',
    'flag',
    'list',
    'ents',
    'rec',
    'x',
    'y',
    'z',
    'city',
    'geo',
  ];
  const EXTS = [
    'decimal("0.5")',
    'decimal("-1.25")',
    'decimal("1.23456")',
    'ip("10.0.0.0/8")',
    'ip("::1")',
    'ip("1.2.3")',
    'datetime("2024-10-15")',
    'datetime("2024-10-15T11:38:02.123+0100")',
    'datetime("2024-02-30")',
    'duration("1h30m")',
    'duration("-1d")',
    'duration("1x")',
    'principal.score',
    'principal.ip',
    'principal.born',
    'context.when',
    'context.d',
  ];
  const gen = (ty: Ty, depth: number): string => {
    // Sometimes the wrong type, to exercise type errors.
    if (r() < 0.06) ty = pick(TYPES);
    const leaf = depth <= 0 || r() < 0.25;
    switch (ty) {
      case 'long':
        if (leaf)
          return pick([...LONGS, 'principal.age', 'context.n', 'resource.size', 'principal.getTag("level")']);
        return pick([
          () => `(${gen('long', depth - 1)} ${pick(['+', '-', '*'])} ${gen('long', depth - 1)})`,
          () => `(-${gen('long', depth - 1)})`,
          () =>
            `(if ${gen('bool', depth - 1)} then ${gen('long', depth - 1)} else ${gen('long', depth - 1)})`,
          () =>
            `${pick(['context.d', 'duration("-1999ms")', 'duration("90m")'])}.${pick(['toMilliseconds', 'toSeconds', 'toMinutes', 'toHours', 'toDays'])}()`,
        ])();
      case 'string':
        if (leaf)
          return pick([
            ...STRS,
            'principal.name',
            'context.s',
            'principal.getTag("team")',
            'context.rec.y.z',
          ]);
        return `(if ${gen('bool', depth - 1)} then ${gen('string', depth - 1)} else ${gen('string', depth - 1)})`;
      case 'entity':
        if (leaf) return pick(ENTS);
        return `(if ${gen('bool', depth - 1)} then ${gen('entity', depth - 1)} else ${gen('entity', depth - 1)})`;
      case 'set': {
        if (leaf)
          return pick([
            '[]',
            'context.list',
            'principal.tags',
            'context.ents',
            '[1, 2, 3]',
            '[Group::"staff", Org::"acme"]',
          ]);
        const t = pick(TYPES);
        const n = Math.floor(r() * 4);
        return `[${Array.from({ length: n }, () => gen(t, depth - 1)).join(', ')}]`;
      }
      case 'record': {
        if (leaf) return pick(['{}', 'context.rec', 'principal.addr', 'context', '{a: 1}']);
        const n = 1 + Math.floor(r() * 3);
        return `{${Array.from({ length: n }, (_, i) => `${pick(['a', 'b', 'x', '"a b'])}${i}`.replace(/^(".*)$/, '$1"') + `: ${gen(pick(TYPES), depth - 1)}`).join(', ')}}`;
      }
      case 'ext':
        if (leaf) return pick(EXTS);
        return pick([
          () => `${gen('ext', depth - 1)}.offset(${gen('ext', depth - 1)})`,
          () => `${gen('ext', depth - 1)}.toDate()`,
          () => `${gen('ext', depth - 1)}.toTime()`,
          () => `${gen('ext', depth - 1)}.durationSince(${gen('ext', depth - 1)})`,
        ])();
      case 'bool':
      default: {
        if (leaf) return pick(['true', 'false', 'context.flag', 'resource.private', 'principal["a b"]']);
        const d = depth - 1;
        return pick([
          () => `(${gen('bool', d)} ${pick(['&&', '||'])} ${gen('bool', d)})`,
          () => `(!${gen('bool', d)})`,
          () => `(${gen(pick(TYPES), d)} ${pick(['==', '!='])} ${gen(pick(TYPES), d)})`,
          () => `(${gen('long', d)} ${pick(['<', '<=', '>', '>='])} ${gen('long', d)})`,
          () => `(${gen('ext', d)} ${pick(['<', '<=', '>', '>='])} ${gen('ext', d)})`,
          () => `(${gen('entity', d)} in ${r() < 0.5 ? gen('entity', d) : gen('set', d)})`,
          () => `(${gen(pick(['entity', 'record'] as Ty[]), d)} has ${pick(ATTRS)})`,
          () => `(${gen(pick(['entity', 'record'] as Ty[]), d)} has ${pick(ATTRS)}.${pick(ATTRS)})`,
          () => `(${gen(pick(['entity', 'record'] as Ty[]), d)}.${pick(ATTRS)} == ${gen(pick(TYPES), d)})`,
          () =>
            `(${gen('string', d)} like ${pick(['"*"', '"a*"', '"*o*"', '"hello\\*world"', '""', '"A*e"', '"**"'])})`,
          () =>
            `(${gen('entity', d)} is ${pick(['User', 'Group', 'Photo', 'Action'])}${r() < 0.5 ? ` in ${gen('entity', d)}` : ''})`,
          () =>
            `${gen('set', d)}.${pick(['contains', 'containsAll', 'containsAny'])}(${gen(pick(['set', 'long', 'entity'] as Ty[]), d)})`,
          () => `${gen('set', d)}.isEmpty()`,
          () => `${gen('entity', d)}.hasTag(${gen('string', d)})`,
          () =>
            `(${gen('entity', d)}.getTag(${pick(['"level"', '"team"', '"nope"'])}) == ${gen(pick(TYPES), d)})`,
          () => `${gen('ext', d)}.${pick(['lessThan', 'greaterThanOrEqual'])}(${gen('ext', d)})`,
          () => `${gen('ext', d)}.${pick(['isIpv4', 'isLoopback', 'isMulticast'])}()`,
          () => `${gen('ext', d)}.isInRange(${gen('ext', d)})`,
          () => `(if ${gen('bool', d)} then ${gen('bool', d)} else ${gen('bool', d)})`,
        ])();
      }
    }
  };
  return { gen, pick };
}

const ROUNDS = Number(process.env.CEDAR_DIFF_ROUNDS ?? 600);
const SEED = Number(process.env.CEDAR_DIFF_SEED ?? 20261203);

describe('random expressions agree with cedar-wasm', () => {
  it(`${ROUNDS} random policy pairs (seeded)`, () => {
    const r = rng(SEED);
    const { gen, pick } = generator(r);
    const failures: string[] = [];
    let skipped = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const policies = [
        `${pick(['permit', 'forbid'])}(principal, action, resource) when { ${gen('bool', 4)} };`,
        `permit(principal, action, resource) ${pick(['when', 'unless'])} { ${gen('bool', 3)} };`,
      ].join('\n');
      let res;
      try {
        res = both({ policies, entities: ENTITIES, context: CONTEXT as Record<string, unknown> });
      } catch (e) {
        // A policy cedar-wasm's parser rejects (e.g. a literal out of range) is not a test.
        if (/cedar-wasm failure|unexpected|invalid|parse/i.test((e as Error).message)) {
          skipped++;
          if (process.env.CEDAR_DIFF_DEBUG) console.log((e as Error).message.slice(0, 200));
          continue;
        }
        throw e;
      }
      if (JSON.stringify(res.ours) !== JSON.stringify(res.cedar))
        failures.push(
          `${policies}\n  cedar ${JSON.stringify(res.cedar)}\n  ours  ${JSON.stringify(res.ours)}`,
        );
    }
    expect(skipped, 'policies cedar-wasm rejects').toBeLessThan(ROUNDS / 10);
    expect(failures.slice(0, 5).join('\n\n')).toBe('');
  });
});
