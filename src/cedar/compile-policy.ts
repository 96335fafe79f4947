/**
 * Compiles a policy or template EST (`{effect, principal, action, resource, conditions}`) into one
 * test `(env) => boolean`. The scope becomes specialised closures (an `==` is one key compare, an
 * `in` one ancestor-set lookup); conditions follow in order: `when` must be true, `unless` false,
 * and any other value is a type error. Template slots are read from `env`, so one compiled body
 * serves every link.
 */
import { CedarEvalError, typeError } from './eval-error.js';
import { compileExpr } from './compile-expr.js';
import { CompileIssues, type Env } from './env.js';
import { typeAndId } from './json-value.js';
import type { EntityRef } from './values.js';

export type Test = (env: Env) => boolean;
export type Effect = 'permit' | 'forbid';

export interface CompiledBody {
  effect: Effect;
  test: Test;
  /** Slots the body reads (`?principal`, `?resource`); empty for a static policy. */
  slots: Set<'?principal' | '?resource'>;
}

type Est = Record<string, unknown>;
type Pick = (env: Env) => EntityRef;
type SlotRead = (env: Env) => EntityRef | undefined;

const TRUE: Test = () => true;

/** The entity a scope constraint names: a literal uid or a slot. */
function target(
  c: Est,
  slots: CompiledBody['slots'],
  issues: CompileIssues,
  where: string,
): SlotRead | undefined {
  if (c.slot !== undefined) {
    if (c.slot === '?principal') {
      slots.add('?principal');
      return (env) => env.slotPrincipal;
    }
    if (c.slot === '?resource') {
      slots.add('?resource');
      return (env) => env.slotResource;
    }
    issues.report(`${where}: unknown slot ${JSON.stringify(c.slot)}`);
    return undefined;
  }
  const e = typeAndId((c.entity as Est | undefined)?.__entity ?? c.entity);
  if (e === undefined) {
    issues.report(`${where}: expected an entity or slot, got ${JSON.stringify(c)}`);
    return undefined;
  }
  return () => e;
}

function unlinked(): never {
  throw new CedarEvalError('template slot is not linked');
}

function compileScope(
  c: unknown,
  pick: Pick,
  slots: CompiledBody['slots'],
  issues: CompileIssues,
  where: string,
): Test {
  if (typeof c !== 'object' || c === null) {
    issues.report(`${where}: missing scope constraint`);
    return TRUE;
  }
  const s = c as Est;
  switch (s.op) {
    case 'All':
      return TRUE;
    case '==': {
      const t = target(s, slots, issues, where);
      if (t === undefined) return TRUE;
      if (s.slot === undefined) {
        const key = t(undefined as unknown as Env)!.key;
        return (env) => pick(env).key === key;
      }
      return (env) => pick(env).key === (t(env) ?? unlinked()).key;
    }
    case 'in': {
      if (Array.isArray(s.entities)) {
        const list: EntityRef[] = [];
        for (const x of s.entities) {
          const e = typeAndId((x as Est | undefined)?.__entity ?? x);
          if (e === undefined) issues.report(`${where}: malformed entity in list`);
          else list.push(e);
        }
        return (env) => {
          const me = pick(env);
          for (const a of list) if (env.entities.isIn(me, a)) return true;
          return false;
        };
      }
      const t = target(s, slots, issues, where);
      if (t === undefined) return TRUE;
      if (s.slot === undefined) {
        const anc = t(undefined as unknown as Env)!;
        return (env) => env.entities.isIn(pick(env), anc);
      }
      return (env) => env.entities.isIn(pick(env), t(env) ?? unlinked());
    }
    case 'is': {
      const type = s.entity_type;
      if (typeof type !== 'string') {
        issues.report(`${where}: \`is\` without an entity type`);
        return TRUE;
      }
      if (s.in === undefined) return (env) => pick(env).type === type;
      const inner = compileScope({ ...(s.in as Est), op: 'in' }, pick, slots, issues, where);
      return (env) => pick(env).type === type && inner(env);
    }
  }
  issues.report(`${where}: unsupported scope constraint ${JSON.stringify(c)}`);
  return TRUE;
}

export function compileBody(est: unknown, issues: CompileIssues, where: string): CompiledBody {
  const p = (typeof est === 'object' && est !== null ? est : {}) as Est;
  const slots: CompiledBody['slots'] = new Set();
  const effect = p.effect;
  if (effect !== 'permit' && effect !== 'forbid')
    issues.report(`${where}: unknown effect ${JSON.stringify(effect)}`);
  const tests: Test[] = [];
  const pr = compileScope(p.principal, (env) => env.principal, slots, issues, `${where} principal`);
  const ac = compileScope(p.action, (env) => env.action, slots, issues, `${where} action`);
  const re = compileScope(p.resource, (env) => env.resource, slots, issues, `${where} resource`);
  for (const t of [pr, ac, re]) if (t !== TRUE) tests.push(t);
  const conds = Array.isArray(p.conditions) ? p.conditions : [];
  if (p.conditions !== undefined && !Array.isArray(p.conditions))
    issues.report(`${where}: malformed conditions`);
  conds.forEach((c: Est, i) => {
    const e = compileExpr(c?.body, issues, `${where} ${String(c?.kind)}[${i}]`);
    const kind = c?.kind;
    if (kind !== 'when' && kind !== 'unless') {
      issues.report(`${where}: unknown condition kind ${JSON.stringify(kind)}`);
      return;
    }
    // Say which condition failed; try/catch costs nothing until something throws.
    const at = conds.length > 1 ? `in \`${kind}\` clause ${i + 1}: ` : `in the \`${kind}\` clause: `;
    const unless = kind === 'unless';
    tests.push((env) => {
      let v;
      try {
        v = e(env);
      } catch (err) {
        if (err instanceof CedarEvalError) throw new CedarEvalError(at + err.message);
        throw err;
      }
      if (typeof v !== 'boolean') throw new CedarEvalError(at + typeError('bool', v).message);
      return unless ? !v : v;
    });
  });
  return { effect: effect === 'forbid' ? 'forbid' : 'permit', test: all(tests), slots };
}

/** Conjunction of tests, unrolled for the common small counts. */
function all(t: Test[]): Test {
  switch (t.length) {
    case 0:
      return TRUE;
    case 1:
      return t[0]!;
    case 2: {
      const [a, b] = t as [Test, Test];
      return (env) => a(env) && b(env);
    }
    case 3: {
      const [a, b, c] = t as [Test, Test, Test];
      return (env) => a(env) && b(env) && c(env);
    }
    case 4: {
      const [a, b, c, d] = t as [Test, Test, Test, Test];
      return (env) => a(env) && b(env) && c(env) && d(env);
    }
    default:
      return (env) => {
        for (let i = 0; i < t.length; i++) if (!t[i]!(env)) return false;
        return true;
      };
  }
}
