import { describe, expect, it } from 'vitest';
import { ourVerdict, wasmVerdict, type RequestCase } from '../fuzz/oracle.js';
import { alice, doc, req, SCHEMA, view } from './test-cases.js';
import { CedarRecord, EntityRef } from '../values.js';
import { Decimal } from '../ext/index.js';

/** Runs both sides; asserts the same acceptance and returns ours. */
function same(c: RequestCase, expectOk?: boolean) {
  const w = wasmVerdict(c);
  const o = ourVerdict(c);
  const detail = `wasm: ${w.ok ? 'accepted' : w.message}\nours: ${o.ok ? 'accepted' : o.message}`;
  expect(o.ok, detail).toBe(w.ok);
  if (expectOk !== undefined) expect(w.ok, detail).toBe(expectOk);
  return o;
}

const noVal = { validateRequest: false };

describe('request check against cedar-wasm', () => {
  const cases: [string, unknown, boolean, Partial<RequestCase>?][] = [
    ['minimal', { destinationCountry: 'FR' }, true],
    ['missing required', {}, false],
    ['missing required, unvalidated', {}, false, noVal],
    ['extra attribute', { destinationCountry: 'FR', zz: 1 }, false],
    ['extra attribute, unvalidated', { destinationCountry: 'FR', zz: 1 }, false, noVal],
    ['wrong leaf type', { destinationCountry: 5 }, false],
    [
      'wrong leaf type, unvalidated (Cedar only type-checks validated requests)',
      { destinationCountry: 5 },
      true,
      noVal,
    ],
    ['long', { destinationCountry: 'FR', n: -42 }, true],
    ['long as string', { destinationCountry: 'FR', n: '42' }, false],
    ['non-integer', { destinationCountry: 'FR', n: 1.5 }, false],
    ['non-integer, unvalidated', { destinationCountry: 'FR', n: 1.5 }, false, noVal],
    ['beyond i64', { destinationCountry: 'FR', n: 2 ** 63 }, false],
    ['large exact float', { destinationCountry: 'FR', n: -(2 ** 62) }, true],
    ['bool', { destinationCountry: 'FR', ok: false }, true],
    ['null', { destinationCountry: 'FR', ok: null }, false],
    ['null, unvalidated', { destinationCountry: 'FR', ok: null }, false, noVal],
    ['ip as string', { destinationCountry: 'FR', src: '10.0.0.1' }, true],
    ['ip range as string', { destinationCountry: 'FR', src: '10.0.0.0/8' }, true],
    ['ip bad string', { destinationCountry: 'FR', src: '10.0.0.x' }, false],
    ['ip bad string, unvalidated', { destinationCountry: 'FR', src: '10.0.0.x' }, false, noVal],
    ['ip __extn', { destinationCountry: 'FR', src: { __extn: { fn: 'ip', arg: '::1' } } }, true],
    ['ip implicit fn/arg', { destinationCountry: 'FR', src: { fn: 'ip', arg: '::1' } }, true],
    ['ip as number', { destinationCountry: 'FR', src: 7 }, false],
    [
      'ip given a decimal call',
      { destinationCountry: 'FR', src: { __extn: { fn: 'decimal', arg: '1.0' } } },
      false,
    ],
    [
      'ip given a decimal call, unvalidated',
      { destinationCountry: 'FR', src: { __extn: { fn: 'decimal', arg: '1.0' } } },
      true,
      noVal,
    ],
    ['unknown extension fn', { destinationCountry: 'FR', src: { __extn: { fn: 'nope', arg: '1' } } }, false],
    ['decimal string', { destinationCountry: 'FR', amount: '0.6' }, true],
    ['decimal 4 places', { destinationCountry: 'FR', amount: '-922337203685477.5808' }, true],
    ['decimal 5 places', { destinationCountry: 'FR', amount: '1.23456' }, false],
    ['decimal no dot', { destinationCountry: 'FR', amount: '1' }, false],
    ['datetime date', { destinationCountry: 'FR', at: '2024-02-29' }, true],
    ['datetime full', { destinationCountry: 'FR', at: '2024-02-29T10:11:12.123+0130' }, true],
    ['datetime bad', { destinationCountry: 'FR', at: '2024-02-30' }, false],
    [
      'datetime via offset',
      { destinationCountry: 'FR', at: { __extn: { fn: 'offset', args: ['2024-01-01', '1h'] } } },
      true,
    ],
    [
      'datetime via toDate',
      { destinationCountry: 'FR', at: { __extn: { fn: 'toDate', arg: '2024-01-01T10:00:00Z' } } },
      true,
    ],
    [
      'datetime via toTime (a duration)',
      { destinationCountry: 'FR', at: { __extn: { fn: 'toTime', arg: '2024-01-01T10:00:00Z' } } },
      false,
    ],
    ['duration', { destinationCountry: 'FR', window: '1d2h3m4s5ms' }, true],
    ['duration negative', { destinationCountry: 'FR', window: '-1h' }, true],
    ['duration bad', { destinationCountry: 'FR', window: '1x' }, false],
    [
      'method on a bare string arg',
      { destinationCountry: 'FR', ok: { __extn: { fn: 'isIpv4', arg: '1.2.3.4' } } },
      false,
    ],
    [
      'bool from an extension method',
      {
        destinationCountry: 'FR',
        ok: { __extn: { fn: 'isIpv4', arg: { __extn: { fn: 'ip', arg: '1.2.3.4' } } } },
      },
      true,
    ],
    [
      'string slot given an extension method',
      { destinationCountry: { __extn: { fn: 'isIpv4', arg: { __extn: { fn: 'ip', arg: '1.2.3.4' } } } } },
      false,
    ],
    [
      'long from an extension method',
      {
        destinationCountry: 'FR',
        n: { __extn: { fn: 'toHours', arg: { __extn: { fn: 'duration', arg: '3h' } } } },
      },
      true,
    ],
    ['malformed __extn is a record', { destinationCountry: 'FR', ok: { __extn: { fn: 'ip' } } }, false],
    [
      'malformed __extn is a record, unvalidated',
      { destinationCountry: 'FR', ok: { __extn: { fn: 'ip' } } },
      true,
      noVal,
    ],
    ['entity without __entity', { destinationCountry: 'FR', who: { type: 'App::User', id: 'b' } }, true],
    [
      'entity with __entity',
      { destinationCountry: 'FR', who: { __entity: { type: 'App::User', id: 'b' } } },
      true,
    ],
    ['entity with extra keys', { destinationCountry: 'FR', who: { type: 'App::User', id: 'b', x: 1 } }, true],
    ['entity of wrong type', { destinationCountry: 'FR', who: { type: 'App::Team', id: 'b' } }, false],
    [
      'entity of wrong type, unvalidated',
      { destinationCountry: 'FR', who: { type: 'App::Team', id: 'b' } },
      true,
      noVal,
    ],
    ['entity as string', { destinationCountry: 'FR', who: 'App::User::"b"' }, false],
    ['entity as string, unvalidated', { destinationCountry: 'FR', who: 'App::User::"b"' }, false, noVal],
    ['enum ok', { destinationCountry: 'FR', color: { type: 'App::Color', id: 'red' } }, true],
    ['enum bad id', { destinationCountry: 'FR', color: { type: 'App::Color', id: 'blue' } }, false],
    [
      'enum bad id, unvalidated',
      { destinationCountry: 'FR', color: { type: 'App::Color', id: 'blue' } },
      true,
      noVal,
    ],
    ['set', { destinationCountry: 'FR', list: [1, 2, 2] }, true],
    ['set with a string', { destinationCountry: 'FR', list: [1, '2'] }, false],
    ['set with a string, unvalidated', { destinationCountry: 'FR', list: [1, '2'] }, true, noVal],
    ['set not an array', { destinationCountry: 'FR', list: 1 }, false],
    ['set not an array, unvalidated', { destinationCountry: 'FR', list: 1 }, false, noVal],
    ['empty set', { destinationCountry: 'FR', list: [] }, true],
    ['nested record', { destinationCountry: 'FR', addr: { street: 'x', geo: { lat: 1, lon: 2 } } }, true],
    ['nested record missing', { destinationCountry: 'FR', addr: { street: 'x', geo: { lat: 1 } } }, false],
    [
      'nested record extra',
      { destinationCountry: 'FR', addr: { street: 'x', geo: { lat: 1, lon: 2, alt: 3 } } },
      false,
    ],
    ['nested record optional missing', { destinationCountry: 'FR', addr: { street: 'x' } }, true],
    ['record not an object', { destinationCountry: 'FR', addr: [] }, false],
    ['__proto__ key', JSON.parse('{"destinationCountry":"FR","__proto__":1}'), false],
    [
      'record shaped like an escape',
      { destinationCountry: 'FR', addr: { __entity: { type: 'A', id: 'b' } } },
      false,
    ],
    ['context not an object', [], false],
  ];
  for (const [name, context, ok, more] of cases) it(name, () => void same(req(context, more), ok));

  it('scope: principal type not in appliesTo', () => {
    same(req({ destinationCountry: 'FR' }, { principal: { type: 'App::Org', id: 'o' } }), false);
    same(req({ destinationCountry: 'FR' }, { principal: { type: 'App::Org', id: 'o' }, ...noVal }), true);
  });
  it('scope: second principal type', () =>
    void same(req({ destinationCountry: 'FR' }, { principal: { type: 'App::Team', id: 't' } }), true));
  it('scope: undeclared principal type', () =>
    void same(req({ destinationCountry: 'FR' }, { principal: { type: 'Nope', id: 't' } }), false));
  it('scope: resource type not in appliesTo', () =>
    void same(req({ destinationCountry: 'FR' }, { resource: alice }), false));
  it('scope: action undeclared, even unvalidated', () => {
    same(req({}, { action: { type: 'App::Action', id: 'zzz' } }), false);
    same(req({}, { action: { type: 'App::Action', id: 'zzz' }, ...noVal }), false);
    same(req({}, { action: { type: 'Action', id: 'view' }, ...noVal }), false);
  });
  it('scope: action with no appliesTo', () => {
    same(req({}, { action: { type: 'App::Action', id: 'read' } }), false);
    same(req({}, { action: { type: 'App::Action', id: 'read' }, ...noVal }), true);
    same(req({ a: 1 }, { action: { type: 'App::Action', id: 'read' }, ...noVal }), false);
  });
  it('scope: enum resource', () => {
    const paint = { type: 'App::Action', id: 'paint' };
    same(req({}, { action: paint, resource: { type: 'App::Color', id: 'green' } }), true);
    same(req({}, { action: paint, resource: { type: 'App::Color', id: 'blue' } }), false);
    same(req({}, { action: paint, resource: { type: 'App::Color', id: 'blue' }, ...noVal }), true);
  });
  it('scope: empty namespace action and cross-namespace types', () => {
    same(req({}, { action: { type: 'Action', id: 'top' }, resource: { type: 'Root', id: 'r' } }), true);
    same(
      req({}, { action: { type: 'Action', id: 'top' }, resource: { __entity: { type: 'Root', id: 'r' } } }),
      true,
    );
  });
  it('scope: uid shapes', () => {
    same(req({ destinationCountry: 'FR' }, { principal: { __entity: alice } }), true);
    same(req({ destinationCountry: 'FR' }, { principal: 'App::User::"alice"' }), false);
  });

  it('returns exact values: bigint, decimal, entity refs, records', () => {
    const o = ourVerdict(
      req({
        destinationCountry: 'FR',
        n: 9007199254740993n,
        amount: '0.6',
        who: { type: 'App::User', id: 'b' },
        list: [3, 3, 9223372036854775807n],
      }),
    );
    expect(o.ok).toBe(true);
    if (!o.ok) return;
    const ctx = o.request.context;
    expect(ctx).toBeInstanceOf(CedarRecord);
    expect(ctx.fields.get('n')).toBe(9007199254740993n);
    expect(ctx.fields.get('amount')).toBeInstanceOf(Decimal);
    expect((ctx.fields.get('who') as EntityRef).key).toBe('App::User::"b"');
    expect((ctx.fields.get('list') as { items: unknown[] }).items).toEqual([3, 9223372036854775807n]);
    expect(o.request.principal.key).toBe('App::User::"alice"');
    expect(o.request.action.key).toBe('App::Action::"view"');
    const big = ourVerdict(req({ destinationCountry: 'FR', n: 9223372036854775808n }));
    expect(big.ok).toBe(false);
  });

  it('error messages name the path, the expected and the actual type', () => {
    const o = ourVerdict(req({ destinationCountry: 5 }));
    expect(o.ok).toBe(false);
    if (o.ok) return;
    expect(o.message).toContain('context.destinationCountry');
    expect(o.message).toContain('expected string');
    expect(o.message).toContain('long');
    expect(o.error.code).toBe('invalid_request');
    const n = ourVerdict(req({ destinationCountry: 'x', addr: { street: 'x', geo: { lat: 'a', lon: 2 } } }));
    expect(!n.ok && n.message).toContain('context.addr.geo.lat: expected long, got string');
    const s = ourVerdict(req({ destinationCountry: 'x', list: [1, 'a'] }));
    expect(!s.ok && s.message).toContain('context.list[1]');
  });

  it('accepts schema JSON as well as text', () => {
    const json = {
      '': {
        entityTypes: { U: {} },
        actions: {
          a: {
            appliesTo: {
              principalTypes: ['U'],
              resourceTypes: ['U'],
              context: { type: 'Record', attributes: { x: { type: 'Long' } } },
            },
          },
        },
      },
    };
    const base = {
      schema: json,
      principal: { type: 'U', id: 'u' },
      action: { type: 'Action', id: 'a' },
      resource: { type: 'U', id: 'u' },
      entities: [],
    };
    same({ ...base, context: { x: 1 } }, true);
    same({ ...base, context: { x: 'a' } }, false);
  });

  it('common type shadowing a builtin name', () => {
    const schema = `type ipaddr = Long; entity U; action a appliesTo { principal: U, resource: U, context: { x: ipaddr, y: __cedar::ipaddr } };`;
    const base = {
      schema,
      principal: { type: 'U', id: 'u' },
      action: { type: 'Action', id: 'a' },
      resource: { type: 'U', id: 'u' },
      entities: [],
    };
    same({ ...base, context: { x: 1, y: '1.2.3.4' } }, true);
    same({ ...base, context: { x: '1.2.3.4', y: '1.2.3.4' } }, false);
  });

  void SCHEMA;
  void doc;
  void view;
});
