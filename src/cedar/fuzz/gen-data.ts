/**
 * Random entity data and requests for a generated schema: mostly valid, in every JSON form Cedar
 * accepts (entity refs with and without `__entity`, extension values as strings, `{fn,arg}` or
 * `__extn`), and sometimes deliberately broken so acceptance is compared as well as decisions.
 */
import type { Rng } from './prng.js';
import { unwrap, type GAttr, type GSchema, type GType } from './gen-schema.js';

export const IDS = ['a', 'b', 'c'];
const LONGS = [0, 1, -1, 7, 42, 1000, -5, 2 ** 40, 9007199254740991];
const STRINGS = ['', 'a', 'abc', 'hello world', 'x*y', 'FR', 'US', 'ab'];
const EXT_OK: Record<string, string[]> = {
  decimal: ['0.6', '1.0', '-2.25', '123.4567', '0.0'],
  ipaddr: ['10.0.0.1', '192.168.0.0/16', '::1', '127.0.0.1', '10.0.0.0/8', 'ff00::/8'],
  datetime: ['2024-01-01', '2024-06-01T12:00:00Z', '2023-12-31T23:59:59.999+0100', '1970-01-01T00:00:00Z'],
  duration: ['1h', '-30m', '1d2h', '0ms', '90s', '2d'],
};
const EXT_BAD: Record<string, string[]> = {
  decimal: ['1.23456', '1', 'abc', '1.'],
  ipaddr: ['10.0.0.x', '300.1.1.1', '::1/200', ''],
  datetime: ['2024-13-01', '2024-02-30', '2024-01-01T25:00:00Z', 'now'],
  duration: ['1x', 'h', '1h1d', ''],
};
const CTOR: Record<string, string> = {
  decimal: 'decimal',
  ipaddr: 'ip',
  datetime: 'datetime',
  duration: 'duration',
};

export interface Mutator {
  /** Probability that any one generated value is broken. */
  p: number;
  /** Probability that any one record loses a required attribute or gains an undeclared one. */
  shape?: number;
  count: number;
}

export function entityIds(s: GSchema, type: string): string[] {
  return s.entities.find((e) => e.name === type)?.enumIds ?? IDS;
}

export function uid(r: Rng, type: string, id: string): unknown {
  return r.chance(0.5) ? { type, id } : { __entity: { type, id } };
}

export function genValue(r: Rng, s: GSchema, t: GType, m: Mutator): unknown {
  if (m.p > 0 && r.chance(m.p)) {
    m.count++;
    return breakValue(r, s, unwrap(t));
  }
  const u = unwrap(t);
  switch (u.k) {
    case 'Long':
      // Rarely a long computed by an extension method, which Cedar accepts in a long slot.
      return r.chance(0.05)
        ? { __extn: { fn: 'toHours', arg: { __extn: { fn: 'duration', arg: r.pick(EXT_OK.duration!) } } } }
        : r.pick(LONGS);
    case 'String':
      return r.pick(STRINGS);
    case 'Bool':
      return r.chance(0.05)
        ? { __extn: { fn: 'isIpv4', arg: { __extn: { fn: 'ip', arg: r.pick(EXT_OK.ipaddr!) } } } }
        : r.chance(0.5);
    case 'Ext': {
      const v = r.pick(EXT_OK[u.name]!);
      const x = r.int(3);
      return x === 0 ? v : x === 1 ? { __extn: { fn: CTOR[u.name], arg: v } } : { fn: CTOR[u.name], arg: v };
    }
    case 'Entity': {
      const ref = uid(r, u.name, r.pick(entityIds(s, u.name))) as Record<string, unknown>;
      // Extra keys beside `type`/`id` or `__entity` are ignored by Cedar.
      if (r.chance(0.05)) ref.note = 1;
      return ref;
    }
    case 'Set': {
      const n = r.int(4);
      return Array.from({ length: n }, () => genValue(r, s, u.el, m));
    }
    case 'Record':
      return genRecord(r, s, u.attrs, m);
  }
  return null;
}

export function genRecord(r: Rng, s: GSchema, attrs: GAttr[], m: Mutator): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attrs) if (a.required || r.chance(0.5)) out[a.name] = genValue(r, s, a.type, m);
  if (m.shape && r.chance(m.shape)) {
    m.count++;
    if (r.chance(0.5)) out[r.pick(['extra', 'zz', 'name'])] = 1;
    else {
      const req = attrs.filter((a) => a.required);
      if (req.length) delete out[r.pick(req).name];
    }
  }
  return out;
}

function breakValue(r: Rng, s: GSchema, t: GType): unknown {
  switch (t.k) {
    case 'Ext':
      return r.chance(0.6)
        ? r.pick(EXT_BAD[t.name]!)
        : r.pick([
            5,
            true,
            { __extn: { fn: 'decimal', arg: '1.0' } },
            { __extn: { fn: 'ip', arg: '1.2.3.4' } },
            { __extn: { fn: 'offset', args: ['2024-01-01', '1h'] } },
            { __extn: { fn: 'toTime', arg: '2024-01-01T01:00:00Z' } },
            { __extn: { fn: 'ip', args: [] } },
            { __extn: { fn: 'nope', arg: '1' } },
            { __expr: '1' },
          ]);
    case 'Entity': {
      const other = r.pick(s.entities).name;
      return r.pick([uid(r, t.name, 'zzz'), uid(r, other, 'a'), `${t.name}::"a"`, { type: t.name }]);
    }
    case 'Long':
      return r.pick(['1', 1.5, true, 2 ** 63, null, [1]]);
    case 'String':
      return r.pick([1, false, ['a'], { a: 'b' }]);
    case 'Bool':
      return r.pick(['true', 0, null]);
    case 'Set':
      return r.pick([1, 'x', [null], { a: 1 }]);
    case 'Record':
      return r.pick([[], 'x', 3]);
    default:
      return null;
  }
}

export interface GenData {
  entities: unknown[];
  principal: unknown;
  action: unknown;
  resource: unknown;
  context: unknown;
  validateRequest: boolean;
  /** Mutations applied (0 = meant to be valid). */
  mutations: number;
}

const MUTATIONS = [
  'ctxValue',
  'ctxShape',
  'attrValue',
  'attrShape',
  'tagValue',
  'parentType',
  'unknownType',
  'tagsOnUntagged',
  'duplicate',
  'actionEntity',
  'enumEntity',
  'principalType',
  'resourceType',
  'undeclaredAction',
  'enumScope',
  'cycle',
] as const;
type Mutation = (typeof MUTATIONS)[number];

/**
 * Entities and a request. Three cases in ten carry one deliberate defect, drawn from MUTATIONS so
 * each of Cedar's checks is exercised on its own (a value-level kind breaks values at random
 * points of that part only); some kinds cannot apply to every schema and then leave it valid.
 */
export function genData(r: Rng, s: GSchema): GenData {
  const mutation: Mutation | undefined = r.chance(0.3) ? r.pick(MUTATIONS) : undefined;
  const none: Mutator = { p: 0, count: 0 };
  const attrM: Mutator = {
    p: mutation === 'attrValue' ? 0.2 : 0,
    shape: mutation === 'attrShape' ? 0.3 : 0,
    count: 0,
  };
  const tagM: Mutator = { p: mutation === 'tagValue' ? 0.4 : 0, count: 0 };
  const ctxM: Mutator = {
    p: mutation === 'ctxValue' ? 0.25 : 0,
    shape: mutation === 'ctxShape' ? 0.5 : 0,
    count: 0,
  };
  let count = 0;
  const entities: Record<string, unknown>[] = [];
  const ancestorsOf = (type: string): string[] => {
    const out = new Set<string>();
    const stack = [type];
    while (stack.length) {
      const t = stack.pop()!;
      for (const p of s.entities.find((e) => e.name === t)?.memberOf ?? [])
        if (!out.has(p)) {
          out.add(p);
          stack.push(p);
        }
    }
    return [...out];
  };
  for (const e of s.entities) {
    if (e.enumIds) {
      if (r.chance(0.3)) entities.push({ uid: uid(r, e.name, r.pick(e.enumIds)), attrs: {}, parents: [] });
      continue;
    }
    for (const id of IDS) {
      if (!r.chance(0.6)) continue;
      const parentTypes = ancestorsOf(e.name);
      // Types form a DAG except `T in [T]`; there only larger ids are parents, so no cycles
      // (Cedar refuses cycles: the 'cycle' mutation covers that).
      const parents: unknown[] = [];
      for (let k = r.int(3); parentTypes.length && k > 0; k--) {
        const pt = r.pick(parentTypes);
        const pid = r.pick(entityIds(s, pt));
        if (pt !== e.name || pid > id) parents.push(uid(r, pt, pid));
      }
      const ent: Record<string, unknown> = {
        uid: uid(r, e.name, id),
        attrs: genRecord(r, s, e.attrs, attrM),
        parents,
      };
      if (e.tags && r.chance(0.7)) {
        const tags: Record<string, unknown> = {};
        for (const k of r.some(['k', 'role', 'x'], 0.5)) tags[k] = genValue(r, s, e.tags, tagM);
        ent.tags = tags;
      }
      entities.push(ent);
    }
  }
  const plain = s.entities.filter((e) => !e.enumIds);
  const enumType = s.entities.find((e) => e.enumIds);
  switch (mutation) {
    case 'parentType': {
      const e = r.pick(plain);
      const bad = s.entities.map((x) => x.name).filter((t) => !ancestorsOf(e.name).includes(t));
      if (bad.length) {
        count++;
        entities.push({
          uid: uid(r, e.name, 'p'),
          attrs: genRecord(r, s, e.attrs, none),
          parents: [uid(r, r.pick(bad), 'a')],
        });
      }
      break;
    }
    case 'unknownType':
      count++;
      entities.push({
        uid: { type: r.pick(['Nope', 'Action', `${s.ns ? s.ns + '::' : ''}Nope`]), id: 'a' },
        attrs: {},
        parents: [],
      });
      break;
    case 'tagsOnUntagged': {
      const e = plain.find((x) => !x.tags);
      if (e) {
        count++;
        entities.push({
          uid: uid(r, e.name, 't'),
          attrs: genRecord(r, s, e.attrs, none),
          parents: [],
          tags: { t: 'v' },
        });
      }
      break;
    }
    case 'duplicate':
      if (entities.length) {
        const copy = JSON.parse(JSON.stringify(r.pick(entities))) as Record<string, unknown>;
        if (r.chance(0.5)) {
          count++;
          copy.parents = [...(copy.parents as unknown[]), { type: 'Zed', id: 'z' }];
        }
        entities.push(copy);
      }
      break;
    case 'actionEntity': {
      const a = r.pick(s.actions);
      count++;
      const parents = r.chance(0.5)
        ? a.memberOf
        : r.some(
            s.actions.map((x) => x.id),
            0.3,
          );
      entities.push({
        uid: uid(r, a.type, r.chance(0.8) ? a.id : 'undeclared'),
        attrs: {},
        parents: parents.map((id) => uid(r, a.type, id)),
      });
      break;
    }
    case 'enumEntity':
      if (enumType) {
        count++;
        const e = r.pick(plain);
        if (r.chance(0.5)) entities.push({ uid: uid(r, enumType.name, 'nope'), attrs: {}, parents: [] });
        else
          entities.push({
            uid: uid(r, e.name, 'q'),
            attrs: genRecord(r, s, e.attrs, none),
            parents: [uid(r, enumType.name, 'nope')],
          });
      }
      break;
    case 'cycle': {
      const e = plain.find((x) => x.memberOf.includes(x.name)) ?? r.pick(plain);
      count++;
      entities.push({
        uid: uid(r, e.name, 'x'),
        attrs: genRecord(r, s, e.attrs, none),
        parents: [uid(r, e.name, 'y')],
      });
      entities.push({
        uid: uid(r, e.name, 'y'),
        attrs: genRecord(r, s, e.attrs, none),
        parents: [uid(r, e.name, r.chance(0.5) ? 'x' : 'y')],
      });
      break;
    }
  }

  const usable = s.actions.filter((a) => a.principals.length && a.resources.length);
  const a = usable.length ? r.pick(usable) : r.pick(s.actions);
  const pType = a.principals.length ? r.pick(a.principals) : s.entities[0]!.name;
  const rType = a.resources.length ? r.pick(a.resources) : s.entities[0]!.name;
  let principal = uid(r, pType, r.pick(entityIds(s, pType)));
  let resource = uid(r, rType, r.pick(entityIds(s, rType)));
  let action = uid(r, a.type, a.id);
  const others = (allowed: string[]) =>
    s.entities
      .map((e) => e.name)
      .filter((t) => !allowed.includes(t))
      .concat('Nope');
  if (mutation === 'principalType') principal = uid(r, r.pick(others(a.principals)), 'a');
  if (mutation === 'resourceType') resource = uid(r, r.pick(others(a.resources)), 'a');
  if (mutation === 'undeclaredAction') action = uid(r, r.chance(0.7) ? a.type : 'Action2', 'undeclared');
  if (mutation === 'enumScope') {
    if (s.entities.some((e) => e.enumIds && e.name === rType)) resource = uid(r, rType, 'nope');
    else if (s.entities.some((e) => e.enumIds && e.name === pType)) principal = uid(r, pType, 'nope');
  }
  if (mutation && ['principalType', 'resourceType', 'undeclaredAction', 'enumScope'].includes(mutation))
    count++;
  const context = genRecord(r, s, a.context, ctxM);
  return {
    entities,
    principal,
    action,
    resource,
    context,
    validateRequest: !r.chance(0.15),
    mutations: count + attrM.count + tagM.count + ctxM.count,
  };
}
