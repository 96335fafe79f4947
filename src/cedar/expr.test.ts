/**
 * Every expression form and every evaluation error kind, each decided by cedar-wasm and by the
 * TypeScript evaluator on the same input (policy `when { <expr> }`, shared fixture).
 */
import { describe, expect, it } from 'vitest';
import { both, whenPolicy } from './test-oracle.js';
import { CONTEXT, ENTITIES } from './test-fixture.js';

const CASES: Record<string, string[]> = {
  literals: [
    'true',
    'false',
    '1 == 1',
    '"a" == "a"',
    'User::"alice" == principal',
    '-9223372036854775808 < 0',
    '9223372036854775807 > 0',
  ],
  sets: [
    '[1, 2, 2] == [2, 1]',
    '[] == []',
    '[[1], [1]] == [[1]]',
    '[{a: 1}, {a: 1}].contains({a: 1})',
    '[1, "1"].contains("1")',
    '[principal, principal] == [User::"alice"]',
    '[1, principal.nope].isEmpty()',
  ],
  records: [
    '{a: 1, b: 2} == {b: 2, a: 1}',
    '{a: 1} == {a: 1, b: 2}',
    '{a: principal.age}.a == 42',
    '{"a b": 1}["a b"] == 1',
    '{a: 1} has a',
    '{a: 1}.b == 1',
  ],
  vars: [
    'principal == User::"alice"',
    'action == Action::"view"',
    'resource == Photo::"p1"',
    'context.n == 5',
    'context == context',
  ],
  not_neg: [
    '!false',
    '!1',
    '-context.n == -5',
    '-"a" == 1',
    '- - 1 == 1',
    '-(-9223372036854775807 - 1) == 0',
    '-9223372036854775807 < 0',
  ],
  and_or: [
    'true && true',
    'false && 1',
    '1 && true',
    'true && 1',
    'true || 1',
    'false || 1',
    'false || false',
    'principal.nope || true',
    'true || principal.nope',
    'false && principal.nope',
  ],
  if_then_else: [
    'if true then true else 1',
    'if false then 1 else true',
    'if 1 then true else true',
    'if context.flag then principal.age == 42 else principal.nope',
  ],
  equality: [
    '1 == "1"',
    '1 != 2',
    'principal != resource',
    'decimal("1.0") == decimal("1.00")',
    'ip("1.2.3.4") == ip("1.2.3.4/32")',
    'ip("1.2.3.4/24") == ip("1.2.3.0/24")',
    '9223372036854775807 == 9223372036854775807',
    '9007199254740993 == 9007199254740992',
    '9007199254740993 == 9007199254740992 + 1',
    '{} == []',
    'datetime("2024-01-01") == datetime("2024-01-01T00:00:00Z")',
    'duration("1h") == duration("60m")',
  ],
  compare: [
    '1 < 2',
    '2 <= 2',
    '3 > 2',
    '2 >= 3',
    '"a" < "b"',
    '1 < "a"',
    '9223372036854775807 > (-9223372036854775807 - 1)',
    '9007199254740993 > 9007199254740992',
    'decimal("1.0") < decimal("2.0")',
    'ip("1.2.3.4") < ip("1.2.3.5")',
    'datetime("2024-01-01") < datetime("2024-01-02")',
    'duration("1h") >= duration("60m")',
    'datetime("2024-01-01") < duration("1h")',
    'duration("1h") < 1',
    'true < false',
  ],
  arithmetic: [
    '1 + 2 == 3',
    '5 - 7 == -2',
    '6 * 7 == 42',
    '9223372036854775807 + 1 > 0',
    '(-9223372036854775807 - 1) - 1 < 0',
    '9223372036854775807 * 2 > 0',
    '(-9223372036854775807 - 1) * -1 > 0',
    '9223372036854775807 - 1 == 9223372036854775806',
    '4611686018427387904 * 2 > 0',
    '4611686018427387904 * -2 < 0',
    '9007199254740991 + 1 == 9007199254740992',
    '9007199254740991 * 3 == 27021597764222973',
    '"a" + 1 == 1',
    '1 + true == 1',
    '0 * -1 == 0',
  ],
  in: [
    'principal in Group::"staff"',
    'principal in Org::"acme"',
    'principal in Group::"admins"',
    'User::"bob" in Org::"acme"',
    'principal in principal',
    'User::"nobody" in User::"nobody"',
    'User::"nobody" in Group::"staff"',
    'principal in [Group::"x", Org::"acme"]',
    'principal in []',
    'principal in [1]',
    'principal in [principal, 1]',
    '1 in principal',
    'principal in 1',
    'principal in context.ents',
    'resource in Album::"all"',
    'action in Action::"read"',
    'action in [Action::"read"]',
  ],
  has: [
    'principal has name',
    'principal has nope',
    'principal has "a b"',
    'principal has __proto__',
    'User::"nobody" has name',
    'context has rec',
    'context.rec has y',
    '1 has a',
    '[1] has a',
    'context has rec.y.z',
    'context has rec.y.q',
    'context has rec.x.q',
    'principal has addr.geo.lat',
    'principal has boss.name',
  ],
  attr: [
    'principal.name == "Alice"',
    'principal.nope == 1',
    'principal["a b"]',
    'principal["__proto__"] == "plain key"',
    'principal.ghost.name == "x"',
    'principal.boss.name == "Bob"',
    'context.rec.y.z == "deep"',
    'context.rec.q == 1',
    '"a".b == 1',
    'principal.addr.geo.lat == 1',
    'User::"nobody".name == 1',
  ],
  like: [
    '"abc" like "a*c"',
    '"abc" like "*"',
    '"" like "*"',
    '"" like ""',
    '"abc" like "a*b*c*"',
    '"a*c" like "a\\*c"',
    '"abc" like "a\\*c"',
    'context.s like "hello\\*world"',
    'context.s like "*\\**"',
    '"aaa" like "a*a*a*a"',
    '"xaxbx" like "*a*b*"',
    '"éà" like "é*"',
    '"\u{1F600}x" like "*x"',
    '1 like "a"',
    '"abab" like "*ab"',
    '"abc" like "ab"',
  ],
  is: [
    'principal is User',
    'principal is Group',
    'principal is User in Group::"staff"',
    'principal is Group in Group::"staff"',
    'resource is Photo in Album::"all"',
    '1 is User',
    'principal is User in [Group::"staff"]',
    'principal is User in 1',
    'principal is Group in 1',
  ],
  set_methods: [
    '[1,2,3].contains(2)',
    '[1,2,3].containsAll([1,3])',
    '[1,2,3].containsAll([4])',
    '[1,2].containsAny([2,5])',
    '[1,2].containsAny([])',
    '[].isEmpty()',
    '[1].isEmpty()',
    '1.contains(1)',
    '[1].containsAll(1)',
    '[1].containsAny("a")',
    '"a".isEmpty()',
    'context.list.contains(3)',
    'principal.tags.contains("b")',
    '[1,2,3,4,5,6,7,8,9,10,11,12].contains(12)',
    '[1,2,3,4,5,6,7,8,9,10,11,principal].contains(principal)',
    '[1,2,3,4,5,6,7,8,9,10,11,{a:1}].contains({a:1})',
  ],
  tags: [
    'principal.hasTag("level")',
    'principal.hasTag("nope")',
    'principal.getTag("level") == 3',
    'principal.getTag("nope") == 3',
    'resource.hasTag("x")',
    'resource.getTag("x") == 1',
    'User::"nobody".hasTag("x")',
    'User::"nobody".getTag("x") == 1',
    'principal.hasTag(1)',
    '1.hasTag("a")',
    'principal.getTag(1) == 1',
  ],
  ext_calls: [
    'principal.score.greaterThan(decimal("0.5"))',
    'principal.score.lessThanOrEqual(decimal("0.75"))',
    'principal.ip.isInRange(ip("10.0.0.0/8"))',
    'principal.ip.isLoopback()',
    'context.when.toTime() == duration("10h38m2s123ms")',
    'context.d.toMinutes() == 90',
    'principal.born.offset(context.d) > principal.born',
    'decimal(principal.name) == decimal("1.0")',
    'ip(1).isIpv4()',
    'decimal("1.0").isIpv4()',
    'ip("1.2.3.4").lessThan(decimal("1.0"))',
    'context.n.toDays() == 0',
    'decimal("1.0").lessThan(1)',
  ],
};

describe('expressions agree with cedar-wasm', () => {
  for (const [group, exprs] of Object.entries(CASES))
    describe(group, () => {
      for (const e of exprs)
        it(e, () => {
          const r = both({
            policies: whenPolicy(e),
            entities: ENTITIES,
            context: CONTEXT as Record<string, unknown>,
          });
          expect(r.ours).toEqual(r.cedar);
        });
    });

  it('unless: must be false; non-bool is an error', () => {
    for (const body of ['false', 'true', '1', 'principal.nope']) {
      const r = both({
        policies: `permit(principal, action, resource) unless { ${body} };`,
        entities: ENTITIES,
      });
      expect(r.ours, body).toEqual(r.cedar);
    }
  });

  it('several conditions run in order; the first false stops evaluation', () => {
    const r = both({
      policies:
        'permit(principal, action, resource) when { false } when { principal.nope }; permit(principal, action, resource) when { true } unless { principal.nope };',
      entities: ENTITIES,
    });
    expect(r.ours).toEqual(r.cedar);
  });
});
