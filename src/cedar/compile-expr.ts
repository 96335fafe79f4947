/**
 * Over 400 lines on purpose: one switch over every expression form of Cedar's JSON policy form,
 * each case a few lines; split by operator family it would scatter one dispatcher over files.
 *
 * Compiles one EST expression (Cedar's JSON policy form, as cedar-wasm's `policyToJson` emits it)
 * into a closure over `Env`. Work that does not depend on the request — literals, constant sets
 * and records, extension constructors on literal strings, `like` patterns — happens here, once.
 * Evaluation errors are thrown as `CedarEvalError` only when the failing part actually runs
 * (so `false && <error>` is false, as in Cedar).
 */
import { CedarEvalError, typeError } from './eval-error.js';
import { compareExt, EXTENSION_FUNCTIONS } from './ext/index.js';
import { CedarJsonError, parseValueJson } from './json-value.js';
import { compileLike, type PatternElem } from './like.js';
import type { CompileIssues, Env, Expr } from './env.js';
import {
  CedarRecord,
  CedarSet,
  EntityRef,
  I64_MAX,
  I64_MIN,
  makeSet,
  setHas,
  showValue,
  valueEquals,
  type EntityData,
  type Value,
} from './values.js';

type Est = Record<string, unknown>;

const fail =
  (msg: string): Expr =>
  () => {
    throw new CedarEvalError(msg);
  };

function isLong(v: Value): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

function asBool(v: Value): boolean {
  if (typeof v !== 'boolean') throw typeError('bool', v);
  return v;
}

function asEntity(v: Value): EntityRef {
  if (v instanceof EntityRef) return v;
  throw typeError('(entity of type `any_entity_type`)', v);
}

function asSet(v: Value): CedarSet {
  if (v instanceof CedarSet) return v;
  throw typeError('set', v);
}

function asString(v: Value): string {
  if (typeof v !== 'string') throw typeError('string', v);
  return v;
}

/** i64 arithmetic: numbers while the result stays safe, bigint beyond, error outside i64. */
function longResult(r: bigint, what: string, a: Value, b: Value | undefined): number | bigint {
  if (r < I64_MIN || r > I64_MAX)
    throw new CedarEvalError(
      b === undefined
        ? `integer overflow while attempting to ${what} the value \`${showValue(a)}\``
        : `integer overflow while attempting to ${what} the values \`${showValue(a)}\` and \`${showValue(b)}\``,
    );
  return r >= -9007199254740991n && r <= 9007199254740991n ? Number(r) : r;
}

function checkLongs(a: Value, b: Value): void {
  if (!isLong(a)) throw typeError('long', a);
  if (!isLong(b)) throw typeError('long', b);
}

function add(a: Value, b: Value): Value {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  checkLongs(a, b);
  return longResult(BigInt(a as number | bigint) + BigInt(b as number | bigint), 'add', a, b);
}
function sub(a: Value, b: Value): Value {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  checkLongs(a, b);
  return longResult(BigInt(a as number | bigint) - BigInt(b as number | bigint), 'subtract', a, b);
}
function mul(a: Value, b: Value): Value {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    // Exact whenever the rounded product is safe (rounding is monotone around 2^53).
    if (Number.isSafeInteger(r)) return r === 0 ? 0 : r;
  }
  checkLongs(a, b);
  return longResult(BigInt(a as number | bigint) * BigInt(b as number | bigint), 'multiply', a, b);
}

/** Ordering for `< <= > >=`: longs (number/bigint compare exactly in JS), datetime, duration. */
function compare(a: Value, b: Value): number {
  if (isLong(a)) {
    if (!isLong(b)) throw typeError('long', b);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return compareExt(a, b);
}

/** Entity data for `.`/`getTag`: an entity absent from the request's data is an error there. */
function entityData(env: Env, e: EntityRef): EntityData {
  const d = env.entities.entity(e.key);
  if (d === undefined) throw new CedarEvalError(`entity \`${e.key}\` does not exist`);
  return d;
}

function getAttr(env: Env, v: Value, attr: string): Value {
  if (v instanceof CedarRecord) {
    const x = v.fields.get(attr);
    if (x === undefined) throw new CedarEvalError(`record does not have the attribute \`${attr}\``);
    return x;
  }
  if (v instanceof EntityRef) {
    const x = entityData(env, v).attrs.get(attr);
    if (x === undefined) throw new CedarEvalError(`\`${v.key}\` does not have the attribute \`${attr}\``);
    return x;
  }
  throw typeError('one of [record, (entity of type `any_entity_type`)]', v);
}

function hasAttr(env: Env, v: Value, attr: string): boolean {
  if (v instanceof CedarRecord) return v.fields.has(attr);
  if (v instanceof EntityRef) return env.entities.entity(v.key)?.attrs.has(attr) === true;
  throw typeError('one of [record, (entity of type `any_entity_type`)]', v);
}

/** `a in b`: b an entity, or a set of entities (every element must be an entity). */
function inOp(env: Env, a: Value, b: Value): boolean {
  const child = asEntity(a);
  if (b instanceof EntityRef) return env.entities.isIn(child, b);
  if (b instanceof CedarSet) {
    const items = b.items;
    for (let i = 0; i < items.length; i++) asEntity(items[i]!);
    for (let i = 0; i < items.length; i++) if (env.entities.isIn(child, items[i] as EntityRef)) return true;
    return false;
  }
  throw typeError('one of [set, (entity of type `any_entity_type`)]', b);
}

function node(est: unknown): [string, unknown] | undefined {
  if (typeof est !== 'object' || est === null || Array.isArray(est)) return undefined;
  const keys = Object.keys(est);
  if (keys.length !== 1) return undefined;
  return [keys[0]!, (est as Est)[keys[0]!]];
}

/** Literal EST values: parsed once; a long beyond ±2^53 as a JS number was already rounded. */
function literal(v: unknown, issues: CompileIssues, where: string): Expr {
  let unsafe = false;
  const scan = (x: unknown): void => {
    if (typeof x === 'number' && !Number.isSafeInteger(x)) unsafe = true;
    else if (Array.isArray(x)) x.forEach(scan);
    else if (typeof x === 'object' && x !== null) Object.values(x).forEach(scan);
  };
  scan(v);
  if (unsafe)
    issues.report(`${where}: integer literal beyond ±2^53 given as a JS number (precision already lost)`);
  try {
    const val = parseValueJson(v, 'literal');
    return () => val;
  } catch (e) {
    if (e instanceof CedarJsonError) return fail(e.message);
    throw e;
  }
}

/** A compiled expression that is a constant, for folding. */
const CONSTANT = Symbol('constant');
type ConstExpr = Expr & { [CONSTANT]?: Value };
function constant(v: Value): Expr {
  const f: ConstExpr = () => v;
  f[CONSTANT] = v;
  return f;
}
function constOf(e: Expr): Value | undefined {
  return (e as ConstExpr)[CONSTANT];
}

export function compileExpr(est: unknown, issues: CompileIssues, where = 'expr'): Expr {
  const n = node(est);
  if (n === undefined) {
    issues.report(`${where}: not an EST expression node: ${JSON.stringify(est)?.slice(0, 80)}`);
    return fail('unsupported expression');
  }
  const [op, body] = n;
  const sub_ = (x: unknown, tag: string): Expr => compileExpr(x, issues, `${where}.${tag}`);
  const b = body as Est;
  switch (op) {
    case 'Value': {
      const f = literal(body, issues, where);
      try {
        return constant(f(undefined as unknown as Env));
      } catch {
        return f;
      }
    }
    case 'Var':
      switch (body) {
        case 'principal':
          return (env) => env.principal;
        case 'action':
          return (env) => env.action;
        case 'resource':
          return (env) => env.resource;
        case 'context':
          return (env) => env.context;
      }
      break;
    case 'Slot':
      if (body === '?principal')
        return (env) => env.slotPrincipal ?? fail('template slot ?principal is not linked')(env);
      if (body === '?resource')
        return (env) => env.slotResource ?? fail('template slot ?resource is not linked')(env);
      break;
    case '!': {
      const a = sub_(b.arg, '!');
      return (env) => !asBool(a(env));
    }
    case 'neg': {
      const a = sub_(b.arg, 'neg');
      return (env) => {
        const v = a(env);
        if (typeof v === 'number') return v === 0 ? 0 : -v;
        if (typeof v !== 'bigint') throw typeError('long', v);
        return longResult(-v, 'negate', v, undefined);
      };
    }
    case '&&': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      return (env) => asBool(l(env)) && asBool(r(env));
    }
    case '||': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      return (env) => asBool(l(env)) || asBool(r(env));
    }
    case '==':
    case '!=': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      const rc = constOf(r);
      if (rc !== undefined && typeof rc !== 'object')
        return op === '==' ? (env) => l(env) === rc : (env) => l(env) !== rc;
      if (rc instanceof EntityRef) {
        const key = rc.key;
        return op === '=='
          ? (env) => {
              const v = l(env);
              return v instanceof EntityRef && v.key === key;
            }
          : (env) => {
              const v = l(env);
              return !(v instanceof EntityRef && v.key === key);
            };
      }
      return op === '==' ? (env) => valueEquals(l(env), r(env)) : (env) => !valueEquals(l(env), r(env));
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      switch (op) {
        case '<':
          return (env) => compare(l(env), r(env)) < 0;
        case '<=':
          return (env) => compare(l(env), r(env)) <= 0;
        case '>':
          return (env) => compare(l(env), r(env)) > 0;
        default:
          return (env) => compare(l(env), r(env)) >= 0;
      }
    }
    case '+':
    case '-':
    case '*': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      const f = op === '+' ? add : op === '-' ? sub : mul;
      return (env) => f(l(env), r(env));
    }
    case 'in': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      const rc = constOf(r);
      if (rc instanceof EntityRef) return (env) => env.entities.isIn(asEntity(l(env)), rc);
      return (env) => inOp(env, l(env), r(env));
    }
    case 'contains': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      return (env) => setHas(asSet(l(env)), r(env));
    }
    case 'containsAll': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      return (env) => {
        const s = asSet(l(env));
        const t = asSet(r(env));
        for (const x of t.items) if (!setHas(s, x)) return false;
        return true;
      };
    }
    case 'containsAny': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      return (env) => {
        const s = asSet(l(env));
        const t = asSet(r(env));
        for (const x of t.items) if (setHas(s, x)) return true;
        return false;
      };
    }
    case 'isEmpty': {
      const a = sub_(b.arg, 'isEmpty');
      return (env) => asSet(a(env)).items.length === 0;
    }
    case 'hasTag': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      return (env) => {
        const e = asEntity(l(env));
        const t = asString(r(env));
        return env.entities.entity(e.key)?.tags?.has(t) === true;
      };
    }
    case 'getTag': {
      const l = sub_(b.left, 'left');
      const r = sub_(b.right, 'right');
      return (env) => {
        const e = asEntity(l(env));
        const t = asString(r(env));
        const v = entityData(env, e).tags?.get(t);
        if (v === undefined) throw new CedarEvalError(`\`${e.key}\` does not have the tag \`${t}\``);
        return v;
      };
    }
    case '.': {
      const l = sub_(b.left, 'left');
      const attr = b.attr;
      if (typeof attr !== 'string') break;
      return (env) => getAttr(env, l(env), attr);
    }
    case 'has': {
      const l = sub_(b.left, 'left');
      const attr = b.attr;
      if (typeof attr === 'string') return (env) => hasAttr(env, l(env), attr);
      // `e has a.b.c` means `e has a && e.a has b && e.a.b has c`.
      if (Array.isArray(attr) && attr.length > 0 && attr.every((x) => typeof x === 'string')) {
        const path = attr as string[];
        return (env) => {
          let v = l(env);
          for (let i = 0; i < path.length; i++) {
            if (!hasAttr(env, v, path[i]!)) return false;
            if (i + 1 < path.length) v = getAttr(env, v, path[i]!);
          }
          return true;
        };
      }
      break;
    }
    case 'like': {
      const l = sub_(b.left, 'left');
      const pat = b.pattern;
      if (
        !Array.isArray(pat) ||
        !pat.every((p) => p === 'Wildcard' || typeof (p as Est)?.Literal === 'string')
      )
        break;
      const m = compileLike(pat as PatternElem[]);
      return (env) => m(asString(l(env)));
    }
    case 'is': {
      const l = sub_(b.left, 'left');
      const type = b.entity_type;
      if (typeof type !== 'string') break;
      if (b.in === undefined) return (env) => asEntity(l(env)).type === type;
      const r = sub_(b.in, 'in');
      return (env) => {
        const e = asEntity(l(env));
        return e.type === type && inOp(env, e, r(env));
      };
    }
    case 'if-then-else': {
      const c = sub_(b.if, 'if');
      const t = sub_(b.then, 'then');
      const e = sub_(b.else, 'else');
      return (env) => (asBool(c(env)) ? t(env) : e(env));
    }
    case 'Set': {
      if (!Array.isArray(body)) break;
      const items = body.map((x, i) => sub_(x, `Set[${i}]`));
      const consts = items.map(constOf);
      if (consts.every((c) => c !== undefined)) return constant(makeSet(consts as Value[]));
      return (env) => makeSet(items.map((f) => f(env)));
    }
    case 'Record': {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) break;
      const keys = Object.keys(body);
      const vals = keys.map((k) => sub_((body as Est)[k], `Record.${k}`));
      const consts = vals.map(constOf);
      if (consts.every((c) => c !== undefined))
        return constant(new CedarRecord(new Map(keys.map((k, i) => [k, consts[i]!]))));
      return (env) => {
        const m = new Map<string, Value>();
        for (let i = 0; i < keys.length; i++) m.set(keys[i]!, vals[i]!(env));
        return new CedarRecord(m);
      };
    }
    default: {
      const f = EXTENSION_FUNCTIONS.get(op);
      if (f === undefined || !Array.isArray(body)) break;
      // Cedar parses a call with the wrong arity and fails only when it is evaluated.
      if (body.length !== f.arity)
        return fail(`\`${op}\` takes ${f.arity} argument(s), called with ${body.length}`);
      const args = body.map((x, i) => sub_(x, `${op}[${i}]`));
      const consts = args.map(constOf);
      if (f.constructor && consts.every((c) => c !== undefined)) {
        // Extension literal: parse once; a malformed one errors only when evaluated.
        try {
          return constant(f.call(consts as Value[]));
        } catch (e) {
          if (e instanceof CedarEvalError) {
            const msg = e.message;
            return fail(msg);
          }
          throw e;
        }
      }
      if (args.length === 1 && f.call1 !== undefined) {
        const a0 = args[0]!;
        const c1 = f.call1;
        return (env) => c1(a0(env));
      }
      if (args.length === 2 && f.call2 !== undefined) {
        const [a0, a1] = args as [Expr, Expr];
        const c2 = f.call2;
        return (env) => c2(a0(env), a1(env));
      }
      return (env) => f.call(args.map((a) => a(env)));
    }
  }
  issues.report(`${where}: unsupported EST construct \`${op}\`: ${JSON.stringify(body)?.slice(0, 80)}`);
  return fail(`unsupported construct ${op}`);
}
