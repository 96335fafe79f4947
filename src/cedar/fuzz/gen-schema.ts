/**
 * Random Cedar schemas for the differential fuzzer, kept as a small model (so values and policies
 * can be generated to fit) and printed as Cedar schema text for cedar-wasm to parse.
 */
import type { Rng } from './prng.js';

export type GType =
  | { k: 'Long' | 'String' | 'Bool' }
  | { k: 'Ext'; name: 'ipaddr' | 'decimal' | 'datetime' | 'duration' }
  | { k: 'Set'; el: GType }
  | { k: 'Record'; attrs: GAttr[] }
  | { k: 'Entity'; name: string }
  | { k: 'Common'; name: string; def: GType };

export interface GAttr {
  name: string;
  type: GType;
  required: boolean;
}

export interface GEntityType {
  name: string;
  attrs: GAttr[];
  memberOf: string[];
  tags?: GType;
  enumIds?: string[];
}

export interface GAction {
  type: string;
  id: string;
  principals: string[];
  resources: string[];
  context: GAttr[];
  memberOf: string[];
}

export interface GSchema {
  ns: string;
  commons: { name: string; def: GType }[];
  entities: GEntityType[];
  actions: GAction[];
  text: string;
}

const ATTR_NAMES = [
  'b c',
  'name',
  'age',
  'flag',
  'ip',
  'amount',
  'at',
  'window',
  'owner',
  'members',
  'labels',
  'info',
  'level',
  'nick',
  'score',
  'home',
  'z',
];
const EXTS = ['ipaddr', 'decimal', 'datetime', 'duration'] as const;

export function unwrap(t: GType): GType {
  return t.k === 'Common' ? unwrap(t.def) : t;
}

export function genSchema(r: Rng): GSchema {
  const ns = r.pick(['', '', 'App', 'Co::Hr']);
  const q = (n: string) => (ns ? `${ns}::${n}` : n);
  const names = r.some(['User', 'Group', 'Doc', 'Folder', 'Team'], 0.7);
  if (!names.includes('User')) names.unshift('User');
  if (!names.includes('Doc')) names.push('Doc');
  const enumName = r.chance(0.4) ? q('Color') : undefined;
  const entityNames = names.map(q);
  const commons: { name: string; def: GType }[] = [];

  const genType = (depth: number): GType => {
    const x = r.next();
    if (depth < 2 && x < 0.1) return { k: 'Set', el: genType(depth + 1) };
    if (depth < 2 && x < 0.18) return { k: 'Record', attrs: genAttrs(depth + 1, 1 + r.int(3)) };
    if (depth < 2 && x < 0.22 && commons.length) {
      const c = r.pick(commons);
      return { k: 'Common', name: c.name, def: c.def };
    }
    if (x < 0.4) return { k: 'Long' };
    if (x < 0.58) return { k: 'String' };
    if (x < 0.66) return { k: 'Bool' };
    if (x < 0.84) return { k: 'Ext', name: r.pick(EXTS) };
    if (enumName && r.chance(0.3)) return { k: 'Entity', name: enumName };
    return { k: 'Entity', name: r.pick(entityNames) };
  };
  const genAttrs = (depth: number, n: number): GAttr[] => {
    const pool = [...ATTR_NAMES];
    const out: GAttr[] = [];
    for (let i = 0; i < n; i++) {
      const name = pool.splice(r.int(pool.length), 1)[0]!;
      out.push({ name, type: genType(depth), required: r.chance(0.6) });
    }
    return out;
  };
  for (let i = 0; i < r.int(3); i++) commons.push({ name: q(`C${i}`), def: genType(1) });

  const entities: GEntityType[] = entityNames.map((name, i) => ({
    name,
    attrs: genAttrs(0, r.int(5)),
    // Parents only among later types (a DAG), sometimes itself (Cedar allows `Group in [Group]`).
    memberOf: [...r.some(entityNames.slice(i + 1), 0.4), ...(r.chance(0.15) ? [name] : [])],
    ...(r.chance(0.3) ? { tags: genType(1) } : {}),
  }));
  if (enumName)
    entities.push({
      name: enumName,
      attrs: [],
      memberOf: [],
      enumIds: r.some(['red', 'green', 'blue'], 0.7).concat('black'),
    });

  const actionType = q('Action');
  const ids = r.some(['view', 'edit', 'delete', 'share', 'admin', 'read'], 0.6);
  if (ids.length === 0) ids.push('view');
  const targets = enumName ? [...entityNames, enumName] : entityNames;
  const actions: GAction[] = ids.map((id, i) => {
    const isGroup = r.chance(0.2);
    return {
      type: actionType,
      id,
      principals: isGroup
        ? []
        : r
            .some(entityNames, 0.5)
            .concat(r.chance(0.5) ? [] : [entityNames[0]!])
            .filter((x, j, a) => a.indexOf(x) === j),
      resources: isGroup
        ? []
        : r
            .some(targets, 0.4)
            .concat([r.pick(targets)])
            .filter((x, j, a) => a.indexOf(x) === j),
      context: isGroup ? [] : genAttrs(0, r.int(5)),
      memberOf: r.some(ids.slice(0, i), 0.3),
    };
  });
  const s: GSchema = { ns, commons, entities, actions, text: '' };
  s.text = printSchema(s);
  // Sometimes a second namespace (the empty one) whose types and actions refer across.
  if (ns && r.chance(0.3)) {
    const outer: GEntityType = {
      name: 'Outer',
      attrs: genAttrs(0, 1 + r.int(2)),
      memberOf: r.some(entityNames, 0.5),
    };
    const act: GAction = {
      type: 'Action',
      id: 'outerAct',
      principals: [r.pick(entityNames), 'Outer'],
      resources: [r.pick(targets)],
      context: genAttrs(0, r.int(3)),
      memberOf: [],
    };
    const more = printSchema({ ns: '', commons: [], entities: [outer], actions: [act], text: '' });
    entities.push(outer);
    actions.push(act);
    s.text += more;
  }
  return s;
}

/** An attribute name as schema text spells it: quoted unless an identifier. */
export function attrName(n: string): string {
  return /^[_a-zA-Z][_a-zA-Z0-9]*$/.test(n) ? n : JSON.stringify(n);
}

export function printType(t: GType): string {
  switch (t.k) {
    case 'Long':
    case 'String':
    case 'Bool':
      return t.k;
    case 'Ext':
      return t.name;
    case 'Set':
      return `Set<${printType(t.el)}>`;
    case 'Record':
      return `{ ${t.attrs.map((a) => `${attrName(a.name)}${a.required ? '' : '?'}: ${printType(a.type)}`).join(', ')} }`;
    case 'Entity':
    case 'Common':
      return t.name;
  }
}

function printSchema(s: GSchema): string {
  const lines: string[] = [];
  const local = (n: string) => (n.includes('::') ? n.slice(n.lastIndexOf('::') + 2) : n);
  for (const c of s.commons) lines.push(`type ${local(c.name)} = ${printType(c.def)};`);
  for (const e of s.entities) {
    if (e.enumIds) {
      lines.push(`entity ${local(e.name)} enum [${e.enumIds.map((x) => JSON.stringify(x)).join(', ')}];`);
      continue;
    }
    let line = `entity ${local(e.name)}`;
    if (e.memberOf.length) line += ` in [${e.memberOf.join(', ')}]`;
    if (e.attrs.length)
      line += ` = { ${e.attrs.map((a) => `${attrName(a.name)}${a.required ? '' : '?'}: ${printType(a.type)}`).join(', ')} }`;
    if (e.tags) line += ` tags ${printType(e.tags)}`;
    lines.push(line + ';');
  }
  for (const a of s.actions) {
    let line = `action ${JSON.stringify(a.id)}`;
    if (a.memberOf.length) line += ` in [${a.memberOf.map((m) => JSON.stringify(m)).join(', ')}]`;
    if (a.principals.length && a.resources.length) {
      line += ` appliesTo { principal: [${a.principals.join(', ')}], resource: [${a.resources.join(', ')}]`;
      if (a.context.length)
        line += `, context: { ${a.context.map((c) => `${attrName(c.name)}${c.required ? '' : '?'}: ${printType(c.type)}`).join(', ')} }`;
      line += ' }';
    }
    lines.push(line + ';');
  }
  const body = lines.join('\n');
  return s.ns ? `namespace ${s.ns} {\n${body}\n}\n` : body + '\n';
}
