/**
 * Random Cedar policy text for a generated schema: every scope form, templates with links, and
 * when/unless conditions over every expression form. Expressions are steered by the schema's
 * attribute types so most evaluate, but nothing forces them to type-check: missing attributes,
 * wrong types and overflow give evaluation errors, which are compared too.
 */
import type { Rng } from './prng.js';
import { unwrap, type GAttr, type GSchema, type GType } from './gen-schema.js';
import { entityIds } from './gen-data.js';

export interface GenPolicies {
  statics: Record<string, string>;
  templates: Record<string, string>;
  links: { templateId: string; newId: string; values: Record<string, { type: string; id: string }> }[];
}

type Kind =
  'Long' | 'String' | 'Bool' | 'Set' | 'Entity' | 'Record' | 'ipaddr' | 'decimal' | 'datetime' | 'duration';

function kindOf(t: GType): Kind {
  const u = unwrap(t);
  if (u.k === 'Ext') return u.name;
  return u.k as Kind;
}

const STR = (s: string) => JSON.stringify(s);

/** The request's own uids, so scopes and literals often name them (else almost everything denies). */
export interface RequestHint {
  principal: { type: string; id: string };
  action: { type: string; id: string };
  resource: { type: string; id: string };
}

export function genPolicies(r: Rng, s: GSchema, hint?: RequestHint): GenPolicies {
  // Typed access paths: (expression text, type), with the `has` guard that makes them safe.
  const paths: { expr: string; guard: string; has: string; t: GType }[] = [];
  const walk = (base: string, guardBase: string, attrs: GAttr[], depth: number) => {
    for (const a of attrs) {
      const ident = /^[_a-zA-Z][_a-zA-Z0-9]*$/.test(a.name);
      const expr = ident ? `${base}.${a.name}` : `${base}[${STR(a.name)}]`;
      const hasExpr = `${base} has ${ident ? a.name : STR(a.name)}`;
      const guard = `${guardBase ? guardBase + ' && ' : ''}${hasExpr}`;
      paths.push({ expr, guard, has: hasExpr, t: a.type });
      const u = unwrap(a.type);
      if (u.k === 'Record' && depth < 2) walk(expr, guard, u.attrs, depth + 1);
      // Through an entity reference to its attributes: `principal.manager.age` (the entity may
      // be absent from the data: an error Cedar reports too).
      const target = u.k === 'Entity' ? s.entities.find((e) => e.name === u.name) : undefined;
      if (target && depth < 1) walk(expr, guard, target.attrs, depth + 1);
    }
  };
  for (const e of s.entities) {
    walk('principal', '', e.attrs, 0);
    walk('resource', '', e.attrs, 0);
  }
  for (const a of s.actions) walk('context', '', a.context, 0);
  const ents = s.entities.map((e) => e.name);
  const lit = (type?: string) => {
    if (hint && r.chance(0.4)) {
      const h = r.pick([hint.principal, hint.resource]);
      if (!type || h.type === type) return `${h.type}::${STR(h.id)}`;
    }
    const t = type ?? r.pick(ents);
    return `${t}::${STR(r.pick(entityIds(s, t)))}`;
  };
  const ofKind = (k: Kind) => paths.filter((p) => kindOf(p.t) === k);
  const access = (k: Kind): string | undefined => {
    const ps = ofKind(k);
    if (!ps.length) return undefined;
    const p = r.pick(ps);
    return p.expr;
  };

  const long = (d: number): string => {
    const x = r.int(d > 2 ? 3 : 8);
    if (x === 0) return r.pick(['0', '1', '2', '-3', '42', '9007199254740993', '9223372036854775807']);
    if (x === 1) return access('Long') ?? '5';
    if (x === 2)
      return `${r.pick(['1h', '2d', '30m'].map((v) => `duration(${STR(v)})`))}.${r.pick(['toHours', 'toMinutes', 'toDays', 'toSeconds', 'toMilliseconds'])}()`;
    if (x === 3) return `(${long(d + 1)} ${r.pick(['+', '-', '*'])} ${long(d + 1)})`;
    if (x === 4) return `-${long(d + 1)}`;
    if (x === 5) {
      const a = access('duration');
      return a ? `${a}.toHours()` : '7';
    }
    if (x === 6) return `principal.getTag(${STR(r.pick(['k', 'role']))})`;
    return `(if ${bool(d + 1)} then ${long(d + 1)} else ${long(d + 1)})`;
  };
  const str = (d: number): string => {
    const x = r.int(3);
    if (x === 0) return STR(r.pick(['', 'a', 'abc', 'FR', 'x*y']));
    if (x === 1) return access('String') ?? STR('s');
    return d > 2 ? '"z"' : `resource.getTag(${STR(r.pick(['k', 'x']))})`;
  };
  const set = (d: number): string => {
    const x = r.int(4);
    if (x === 0) return `[${Array.from({ length: r.int(3) }, () => any(d + 1)).join(', ')}]`;
    if (x === 1) return access('Set') ?? '[1, 2]';
    if (x === 2) return `[${lit()}, principal, resource]`;
    return `[${long(d + 1)}, ${long(d + 1)}]`;
  };
  const ext = (k: 'ipaddr' | 'decimal' | 'datetime' | 'duration'): string => {
    const a = r.chance(0.5) ? access(k) : undefined;
    if (a) return a;
    const v: Record<string, string[]> = {
      ipaddr: ['10.0.0.1', '10.0.0.0/8', '::1', '192.168.1.1'],
      decimal: ['0.6', '1.5', '-2.0', '922337203685477.5807'],
      datetime: ['2024-01-01', '2024-06-01T12:00:00Z', '2023-01-01T00:00:00.001Z'],
      duration: ['1h', '-2d', '90m'],
    };
    const ctor = { ipaddr: 'ip', decimal: 'decimal', datetime: 'datetime', duration: 'duration' }[k];
    return `${ctor}(${STR(r.pick(v[k]!))})`;
  };
  const entity = (): string =>
    r.pick(['principal', 'resource', lit(), access('Entity') ?? 'principal', 'action']);
  const any = (d: number): string => {
    const x = r.int(6);
    return x === 0
      ? long(d)
      : x === 1
        ? str(d)
        : x === 2
          ? entity()
          : x === 3
            ? `(${bool(d + 1)})`
            : x === 4
              ? ext(r.pick(['ipaddr', 'decimal', 'datetime', 'duration']))
              : d > 2
                ? '1'
                : set(d + 1);
  };
  const bool = (d: number): string => {
    if (d > 3) return r.pick(['true', 'false', access('Bool') ?? 'true']);
    const x = r.int(24);
    switch (x) {
      case 0:
        return r.pick(['true', 'false']);
      case 1:
        return access('Bool') ?? 'true';
      case 2: {
        const p = paths.length ? r.pick(paths) : undefined;
        return p ? (r.chance(0.7) ? p.guard : p.has) : 'context has x';
      }
      case 3:
        return `${long(d + 1)} ${r.pick(['<', '<=', '>', '>=', '==', '!='])} ${long(d + 1)}`;
      case 4:
        return `${any(d + 1)} ${r.pick(['==', '!='])} ${any(d + 1)}`;
      case 5:
        return `!(${bool(d + 1)})`;
      case 6:
        return `(${bool(d + 1)} && ${bool(d + 1)})`;
      case 7:
        return `(${bool(d + 1)} || ${bool(d + 1)})`;
      case 8:
        return `(if ${bool(d + 1)} then ${bool(d + 1)} else ${bool(d + 1)})`;
      case 9:
        return `${entity()} in ${r.chance(0.5) ? entity() : `[${lit()}, ${entity()}]`}`;
      case 10:
        return `${entity()} is ${r.pick(ents)}${r.chance(0.3) ? ` in ${lit()}` : ''}`;
      case 11:
        return `${str(d + 1)} like ${r.pick(['"a*"', '"*"', '"x\\*y"', '"*b*"', '""'])}`;
      case 12:
        return `${set(d + 1)}.${r.pick(['contains', 'containsAll', 'containsAny'])}(${r.chance(0.5) ? set(d + 1) : any(d + 1)})`;
      case 13:
        return `${set(d + 1)}.isEmpty()`;
      case 14:
        return `${r.pick(['principal', 'resource'])}.hasTag(${STR(r.pick(['k', 'role', 'x']))})`;
      case 15:
        return `${r.pick(['principal', 'resource'])}.getTag(${STR(r.pick(['k', 'role']))}) == ${any(d + 1)}`;
      case 16:
        return `${ext('ipaddr')}.${r.pick(['isIpv4', 'isIpv6', 'isLoopback', 'isMulticast'])}()`;
      case 17:
        return `${ext('ipaddr')}.isInRange(${ext('ipaddr')})`;
      case 18:
        return `${ext('decimal')}.${r.pick(['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual'])}(${ext('decimal')})`;
      case 19:
        return `${ext('datetime')} ${r.pick(['<', '<=', '>', '>=', '==', '!='])} ${r.chance(0.7) ? ext('datetime') : `${ext('datetime')}.offset(${ext('duration')})`}`;
      case 20:
        return `${ext('duration')} ${r.pick(['<', '>=', '=='])} ${r.chance(0.5) ? ext('duration') : `${ext('datetime')}.${r.pick(['toTime()', `durationSince(${ext('datetime')})`])}`}`;
      case 21:
        return `${ext('datetime')}.toDate() == ${ext('datetime')}`;
      case 22:
        return `{a: ${any(d + 1)}, "b c": ${long(d + 1)}} ${r.pick(['==', '!='])} {a: ${any(d + 1)}, "b c": 1}`;
      default: {
        const p = paths.length ? r.pick(paths) : undefined;
        return p ? `(${p.guard} && ${p.expr} == ${p.expr})` : 'true';
      }
    }
  };

  const scope = (v: 'principal' | 'resource', slot: boolean): string => {
    const types =
      v === 'principal' ? s.actions.flatMap((a) => a.principals) : s.actions.flatMap((a) => a.resources);
    const t = types.length ? r.pick(types) : r.pick(ents);
    if (slot) return r.pick([`${v} == ?${v}`, `${v} in ?${v}`, `${v} is ${t} in ?${v}`]);
    const x = r.int(7);
    if (x === 0 || x > 4) return v;
    if (x === 1) return `${v} == ${lit(hint && r.chance(0.5) ? hint[v].type : t)}`;
    if (x === 2) return `${v} in ${lit()}`;
    if (x === 3) return `${v} is ${t}`;
    return `${v} is ${t} in ${lit()}`;
  };
  const actionScope = (): string => {
    const a = () => {
      const useHint = hint && /(^|::)Action$/.test(hint.action.type) && r.chance(0.4);
      const x = useHint ? hint.action : r.pick(s.actions);
      return `${x.type}::${STR(x.id)}`;
    };
    const x = r.int(4);
    if (x === 0) return 'action';
    if (x === 1) return `action == ${a()}`;
    if (x === 2) return `action in ${a()}`;
    return `action in [${a()}, ${a()}]`;
  };
  const conditions = (): string => {
    let out = '';
    for (let i = r.int(3); i > 0; i--) out += ` ${r.pick(['when', 'unless'])} { ${bool(0)} }`;
    return out;
  };
  const policy = (slotP: boolean, slotR: boolean) =>
    `${r.chance(0.7) ? 'permit' : 'forbid'} (${slotP ? scope('principal', true) : scope('principal', false)}, ${actionScope()}, ${slotR ? scope('resource', true) : scope('resource', false)})${conditions()};`;

  const statics: Record<string, string> = {};
  for (let i = 0, n = 1 + r.int(5); i < n; i++) statics[`p${i}`] = policy(false, false);
  const templates: Record<string, string> = {};
  const links: GenPolicies['links'] = [];
  if (r.chance(0.3)) {
    const slotP = r.chance(0.6);
    const slotR = !slotP || r.chance(0.5);
    templates.t0 = policy(slotP, slotR);
    for (let i = 0, n = 1 + r.int(2); i < n; i++) {
      const values: Record<string, { type: string; id: string }> = {};
      const pick = () => {
        const t = r.pick(ents);
        return { type: t, id: r.pick(entityIds(s, t)) };
      };
      if (slotP) values['?principal'] = pick();
      if (slotR) values['?resource'] = pick();
      links.push({ templateId: 't0', newId: `l${i}`, values });
    }
  }
  return { statics, templates, links };
}
