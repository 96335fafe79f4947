/** Exact JSON parsing and schemaless Cedar JSON values. */
import { describe, expect, it } from 'vitest';
import { parseJsonExact } from './json-exact.js';
import { CedarJsonError, parseContextJson, parseEntitiesJson, parseValueJson } from './json-value.js';
import { both, oracle, whenPolicy } from './test-oracle.js';
import { CedarRecord, CedarSet, EntityRef } from './values.js';
import { Decimal } from './ext/decimal.js';

describe('parseJsonExact', () => {
  it('fast path equals JSON.parse', () => {
    const t = '{"a":[1,2.5,-3,"x\\n",true,null,{"b":{}}],"c":123456789012345}';
    expect(parseJsonExact(t)).toEqual(JSON.parse(t));
  });
  it('keeps integers beyond ±2^53 exact as bigint, safe ones as numbers', () => {
    const v = parseJsonExact(
      '{"max":9223372036854775807,"min":-9223372036854775808,"s":1234567890123456,"f":12345678901234567.25,"str":"99999999999999999"}',
    ) as Record<string, unknown>;
    expect(v.max).toBe(9223372036854775807n);
    expect(v.min).toBe(-9223372036854775808n);
    expect(v.s).toBe(1234567890123456);
    expect(v.f).toBe(Number('12345678901234567.25'));
    expect(v.str).toBe('99999999999999999');
  });
  it('is a faithful parser: escapes, nesting, whitespace, __proto__ as a plain key', () => {
    const t =
      ' { "__proto__" : { "x" : 18446744073709551616 } , "u" : "\\u00e9\\"\\\\" , "arr" : [ [ ] , { } ] } ';
    const v = parseJsonExact(t) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'u', 'arr']);
    expect((v['__proto__'] as Record<string, unknown>).x).toBe(18446744073709551616n);
    expect(v.u).toBe('é"\\');
    expect(v.arr).toEqual([[], {}]);
  });
  it('rejects malformed JSON on the slow path too', () => {
    for (const bad of [
      '[9999999999999999999,]',
      '{"a":9999999999999999999',
      '[01234567890123456789]',
      '{a:12345678901234567}',
      '[12345678901234567] x',
      '"\t12345678901234567"',
    ])
      expect(() => parseJsonExact(bad), bad).toThrow(SyntaxError);
  });
});

describe('schemaless Cedar JSON values', () => {
  it('entity, extension, set (dedup), record', () => {
    const v = parseValueJson(
      {
        e: { __entity: { type: 'A', id: 'b' } },
        d: { __extn: { fn: 'decimal', arg: '1.5' } },
        d2: { __extn: { fn: 'decimal', args: ['1.5'] } },
        s: [1, 1, 2],
        n: 9223372036854775807n,
      },
      'v',
    ) as CedarRecord;
    expect((v.fields.get('e') as EntityRef).key).toBe('A::"b"');
    expect((v.fields.get('d') as Decimal).scaled).toBe(15000n);
    expect((v.fields.get('d2') as Decimal).scaled).toBe(15000n);
    expect((v.fields.get('s') as CedarSet).items).toEqual([1, 2]);
    expect(v.fields.get('n')).toBe(9223372036854775807n);
  });
  it('null, fractions and out-of-range integers are errors', () => {
    expect(() => parseValueJson(null, 'v')).toThrow(CedarJsonError);
    expect(() => parseValueJson(1.5, 'v')).toThrow(/not an integer/);
    expect(() => parseValueJson(9223372036854775808n, 'v')).toThrow(/64-bit/);
    expect(() => parseValueJson({ __extn: { fn: 'nope', arg: 'x' } }, 'v')).toThrow(/does not exist/);
    expect(() => parseValueJson({ __extn: { fn: 'decimal', arg: '1.23456' } }, 'v')).toThrow(
      /too many digits/,
    );
  });
  it('entities need attrs and parents; __entity uids accepted', () => {
    expect(() => parseEntitiesJson([{ uid: { type: 'A', id: 'a' }, parents: [] }])).toThrow(/attrs/);
    const [e] = parseEntitiesJson([
      {
        uid: { __entity: { type: 'A', id: 'a' } },
        attrs: {},
        parents: [{ __entity: { type: 'G', id: 'g' } }],
      },
    ]);
    expect(e!.parents[0]!.key).toBe('G::"g"');
  });
  it('entity type names follow Cedar syntax, as cedar-wasm checks them', () => {
    for (const [type, ok] of [
      ['A', true],
      ['_a1', true],
      ['A::B::C', true],
      ['permit', true],
      ['when', true],
      ['A B', false],
      ['A::', false],
      ['if', false],
      ['true', false],
      ['has', false],
      ['__cedar', false],
      ['__cedar::A', false],
      ['A::__cedar', false],
      ['A ::B', false],
      ['é', false],
      ['', false],
    ] as const) {
      const ent = [{ uid: { type, id: 'x' }, attrs: {}, parents: [] }];
      const wasm = oracleAccepts(ent);
      expect(wasm, type).toBe(ok);
      if (ok) expect(() => parseEntitiesJson(ent), type).not.toThrow();
      else expect(() => parseEntitiesJson(ent), type).toThrow(CedarJsonError);
      if (!ok)
        expect(() => parseValueJson({ __entity: { type, id: 'x' } }, 'v'), type).toThrow(CedarJsonError);
    }
  });
  it('tags: null is malformed (cedar-wasm: expected a map)', () => {
    const ent = [{ uid: { type: 'A', id: 'x' }, attrs: {}, parents: [], tags: null }];
    expect(oracleAccepts(ent)).toBe(false);
    expect(() => parseEntitiesJson(ent)).toThrow(/tags/);
  });
  it('context must be an object', () => {
    expect(() => parseContextJson([])).toThrow(CedarJsonError);
  });
  // Shapes that are records, not escapes, in Cedar 4.13 (decided by cedar-wasm too).
  const shapes: [string, Record<string, unknown>][] = [
    ['context.x == User::"a"', { x: { type: 'User', id: 'a' } }],
    ['context.x == User::"a"', { x: { __entity: { type: 'User', id: 'a' }, q: 1 } }],
    ['context.x has __entity', { x: { __entity: { type: 'User', id: 'a' }, q: 1 } }],
    ['context.x has __extn', { x: { __extn: { fn: 'decimal' } } }],
    ['context.x == decimal("1.0")', { x: { __extn: { fn: 'decimal', arg: '1.0', args: ['2.0'] } } }],
    ['context.x == decimal("1.0")', { x: { __extn: { fn: 'decimal', arg: '1.0' }, y: 1 } }],
    [
      'context.x == datetime("1970-01-02")',
      {
        x: {
          __extn: {
            fn: 'offset',
            args: [
              { __extn: { fn: 'datetime', arg: '1970-01-01' } },
              { __extn: { fn: 'duration', arg: '1d' } },
            ],
          },
        },
      },
    ],
    ['context.x == [1]', { x: [1, 1] }],
    ['context.x == decimal("1.0")', { x: { fn: 'decimal', arg: '1.0' } }],
    ['context.x has fn', { x: { fn: 'decimal', arg: '1.0' } }],
    ['context.x == 1', { x: 1.0 }],
  ];
  for (const [expr, context] of shapes)
    it(`${expr} with ${JSON.stringify(context)}`, () => {
      const r = both({ policies: whenPolicy(expr), context });
      expect(r.ours).toEqual(r.cedar);
    });
});

function oracleAccepts(entities: unknown[]): boolean {
  try {
    oracle({ policies: 'permit(principal, action, resource);', entities });
    return true;
  } catch {
    return false;
  }
}
