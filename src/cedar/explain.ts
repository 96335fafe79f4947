/**
 * Explanations: for each policy, whether its scope matched (principal, action, resource, each) and
 * whether its condition was true, false or an error, and for false or error the smallest failing
 * sub-expression with the values it saw. A traced evaluation of the same compiled pieces the
 * authorizer uses (every sub-expression is compiled with `compileExpr`, so an explanation can never
 * disagree with Cedar's semantics as the evaluator implements them); built only when asked for,
 * never on the decision path.
 */
import { compileBody } from './compile-policy.js';
import { compileExpr } from './compile-expr.js';
import { CompileIssues, type Env } from './env.js';
import { CedarEvalError } from './eval-error.js';
import { showValue, type Value } from './values.js';

export interface ExplainedFailure {
  /** The failing sub-expression in Cedar syntax. */
  expression: string;
  /** The values its operands had (`left`, `right`, `value`…), in Cedar syntax. */
  values?: Record<string, string>;
  /** For an error: the evaluation error's message (a missing attribute or entity, a type error). */
  error?: string;
}

export interface PolicyExplanation {
  policyId: string;
  effect: 'permit' | 'forbid';
  scope: { principal: boolean; action: boolean; resource: boolean };
  /** `not-evaluated` when the scope did not match (Cedar does not look at the condition then). */
  condition: 'true' | 'false' | 'error' | 'not-evaluated';
  /** Where a false or erroring condition failed. */
  failedAt?: ExplainedFailure;
}

/** One policy as the explainer needs it: its JSON form and, for a link, its slot values. */
export interface ExplainablePolicy {
  id: string;
  est: unknown;
  env: Pick<Env, 'slotPrincipal' | 'slotResource'>;
}

type Est = Record<string, unknown>;

const ALL = { op: 'All' };

function scopeMatches(est: Est, part: 'principal' | 'action' | 'resource', env: Env): boolean {
  const only = {
    effect: est.effect,
    principal: ALL,
    action: ALL,
    resource: ALL,
    conditions: [],
    [part]: est[part],
  };
  return compileBody(only, new CompileIssues(), 'explain').test(env);
}

type Outcome = { kind: 'value'; value: Value } | { kind: 'error'; message: string };

function run(est: unknown, env: Env): Outcome {
  try {
    return { kind: 'value', value: compileExpr(est, new CompileIssues(), 'explain')(env) };
  } catch (err) {
    if (err instanceof CedarEvalError) return { kind: 'error', message: err.message };
    throw err;
  }
}

const BINARY = [
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  '*',
  'in',
  'contains',
  'containsAll',
  'containsAny',
  'hasTag',
  'getTag',
];
const SYMBOL: Record<string, string> = {
  '==': '==',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '+': '+',
  '-': '-',
  '*': '*',
  in: 'in',
};

/** An EST expression in Cedar syntax, for messages (readable, not necessarily re-parseable). */
export function cedarText(est: unknown): string {
  if (typeof est !== 'object' || est === null) return String(est);
  const e = est as Est;
  const [op] = Object.keys(e);
  const arg = e[op!] as Est;
  switch (op) {
    case 'Value':
      return literal(arg);
    case 'Var':
      return String(arg);
    case 'Slot':
      return String(arg);
    case '!':
      return `!${cedarText(arg.arg)}`;
    case 'neg':
      return `-${cedarText(arg.arg)}`;
    case '&&':
    case '||':
      return `${cedarText(arg.left)} ${op} ${cedarText(arg.right)}`;
    case '.':
      return `${cedarText(arg.left)}.${String(arg.attr)}`;
    case 'has':
      return `${cedarText(arg.left)} has ${String(arg.attr)}`;
    case 'is':
      return `${cedarText(arg.left)} is ${String(arg.entity_type)}${arg.in ? ` in ${cedarText(arg.in)}` : ''}`;
    case 'like':
      return `${cedarText(arg.left)} like "${patternText(arg.pattern)}"`;
    case 'if-then-else':
      return `if ${cedarText(arg.if)} then ${cedarText(arg.then)} else ${cedarText(arg.else)}`;
    case 'Set':
      return `[${(e.Set as unknown[]).map(cedarText).join(', ')}]`;
    case 'Record':
      return `{${Object.entries(e.Record as Est)
        .map(([k, v]) => `${JSON.stringify(k)}: ${cedarText(v)}`)
        .join(', ')}}`;
    case 'isEmpty':
      return `${cedarText(arg.arg)}.isEmpty()`;
  }
  if (op && SYMBOL[op]) return `${cedarText(arg.left)} ${SYMBOL[op]} ${cedarText(arg.right)}`;
  if (op && BINARY.includes(op)) return `${cedarText(arg.left)}.${op}(${cedarText(arg.right)})`;
  if (op && Array.isArray(e[op])) {
    // An extension function or method: `decimal("1.0")`, `a.lessThan(b)`.
    const args = (e[op] as unknown[]).map(cedarText);
    return args.length > 1 && /^[a-z]/i.test(op) && !['decimal', 'ip', 'datetime', 'duration'].includes(op)
      ? `${args[0]}.${op}(${args.slice(1).join(', ')})`
      : `${op}(${args.join(', ')})`;
  }
  return JSON.stringify(est);
}

function literal(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object' || v === null) return String(v);
  const entity = (v as { __entity?: { type: string; id: string } }).__entity;
  if (entity) return `${entity.type}::${JSON.stringify(entity.id)}`;
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  return JSON.stringify(v);
}

function patternText(pattern: unknown): string {
  if (!Array.isArray(pattern)) return '';
  return pattern
    .map((p) => (p === 'Wildcard' ? '*' : String((p as { Literal?: string }).Literal ?? '')))
    .join('');
}

/** The operands of an expression node, by name, for the values an explanation shows. */
function operands(est: Est): [string, unknown][] {
  const [op] = Object.keys(est);
  const arg = est[op!];
  if (Array.isArray(arg)) return arg.map((a, i) => [i === 0 ? 'receiver' : `arg${i}`, a]);
  if (typeof arg !== 'object' || arg === null) return [];
  const a = arg as Est;
  if ('left' in a && 'right' in a)
    return [
      ['left', a.left],
      ['right', a.right],
    ];
  if ('left' in a) return [['value', a.left]];
  if ('arg' in a) return [['value', a.arg]];
  return [];
}

/**
 * The smallest sub-expression of `est` that explains why it evaluated to `want`'s opposite (false
 * where true was needed, or the reverse) or errored.
 */
function blame(est: unknown, env: Env, need: boolean): ExplainedFailure {
  const e = est as Est;
  const [op] = Object.keys(e ?? {});
  const arg = (e?.[op!] ?? {}) as Est;
  const here = run(est, env);
  if (here.kind === 'error') {
    // Descend into the operand that errors, while one does.
    for (const [, child] of operands(e)) {
      if (run(child, env).kind === 'error') return blame(child, env, need);
    }
    if (op === 'if-then-else') {
      const cond = run(arg.if, env);
      if (cond.kind === 'value' && typeof cond.value === 'boolean')
        return blame(cond.value ? arg.then : arg.else, env, need);
    }
    return { expression: cedarText(est), error: here.message, ...valuesOf(e, env) };
  }
  if (op === '&&' && need) {
    const left = run(arg.left, env);
    return left.kind === 'value' && left.value === true
      ? blame(arg.right, env, true)
      : blame(arg.left, env, true);
  }
  if (op === '||' && !need) {
    const left = run(arg.left, env);
    return left.kind === 'value' && left.value === false
      ? blame(arg.right, env, false)
      : blame(arg.left, env, false);
  }
  if (op === '!') return blame(arg.arg, env, !need);
  if (op === 'if-then-else') {
    const cond = run(arg.if, env);
    if (cond.kind === 'value' && typeof cond.value === 'boolean')
      return blame(cond.value ? arg.then : arg.else, env, need);
  }
  return { expression: cedarText(est), ...valuesOf(e, env) };
}

function valuesOf(e: Est, env: Env): { values?: Record<string, string> } {
  const values: Record<string, string> = {};
  for (const [name, child] of operands(e)) {
    // A constant (no variable or slot in it) shows in the expression already.
    if (!/"(Var|Slot)"/.test(JSON.stringify(child))) continue;
    const r = run(child, env);
    values[name] = r.kind === 'value' ? showValue(r.value) : `error: ${r.message}`;
  }
  return Object.keys(values).length ? { values } : {};
}

/** Explains every policy given against one request environment. */
export function explainPolicies(
  policies: readonly ExplainablePolicy[],
  base: Omit<Env, 'slotPrincipal' | 'slotResource'>,
): PolicyExplanation[] {
  return policies.map((p) => {
    const env: Env = { ...base, ...p.env };
    const est = p.est as Est;
    const effect = est.effect === 'forbid' ? 'forbid' : 'permit';
    const scope = {
      principal: scopeMatches(est, 'principal', env),
      action: scopeMatches(est, 'action', env),
      resource: scopeMatches(est, 'resource', env),
    };
    const out: PolicyExplanation = { policyId: p.id, effect, scope, condition: 'not-evaluated' };
    if (!scope.principal || !scope.action || !scope.resource) return out;
    const conditions = Array.isArray(est.conditions) ? (est.conditions as Est[]) : [];
    for (const c of conditions) {
      const need = c.kind === 'when';
      const r = run(c.body, env);
      if (r.kind === 'error') return { ...out, condition: 'error', failedAt: blame(c.body, env, need) };
      if (r.value !== need) {
        if (typeof r.value !== 'boolean')
          return {
            ...out,
            condition: 'error',
            failedAt: {
              expression: cedarText(c.body),
              error: `condition is ${showValue(r.value)}, not a boolean`,
            },
          };
        return { ...out, condition: 'false', failedAt: blame(c.body, env, need) };
      }
    }
    return { ...out, condition: 'true' };
  });
}

/** The one-line summary: what decided, or which policy came closest. */
export function summarize(decision: 'ALLOW' | 'DENY', explained: readonly PolicyExplanation[]): string {
  const fmt = (f: ExplainedFailure | undefined) =>
    f
      ? `${f.error ? 'error' : 'condition false'} at ${f.expression}${
          f.values
            ? ` (${Object.entries(f.values)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ')})`
            : ''
        }${f.error ? `: ${f.error}` : ''}`
      : '';
  const satisfied = (effect: string) =>
    explained.filter((p) => p.effect === effect && p.condition === 'true');
  const forbids = satisfied('forbid');
  if (decision === 'DENY' && forbids.length)
    return `DENY: forbid ${forbids.map((p) => p.policyId).join(', ')} matched`;
  if (decision === 'ALLOW')
    return `ALLOW: permit ${satisfied('permit')
      .map((p) => p.policyId)
      .join(', ')} matched, no forbid matched`;
  const permits = explained.filter((p) => p.effect === 'permit');
  if (permits.length === 0) return 'DENY: the store has no permit that could apply';
  // Closest: scope matched and the condition failed; else the permit with the most scope parts matching.
  const score = (p: PolicyExplanation) =>
    (p.scope.principal ? 1 : 0) +
    (p.scope.action ? 1 : 0) +
    (p.scope.resource ? 1 : 0) +
    (p.condition !== 'not-evaluated' ? 1 : 0);
  const closest = [...permits].sort((a, b) => score(b) - score(a))[0]!;
  const scopeText =
    closest.condition === 'not-evaluated'
      ? `scope did not match: ${(['principal', 'action', 'resource'] as const).filter((k) => !closest.scope[k]).join(', ')}`
      : `scope matched; ${fmt(closest.failedAt)}`;
  return `DENY: no permit matched; closest: ${closest.policyId} (${scopeText})`;
}
