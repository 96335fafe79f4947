import type { CompiledStore } from '../policy/types.js';

/** One policy, template or template link that differs between two versions of a store. */
export interface PolicyChange {
  id: string;
  kind: 'policy' | 'template' | 'link';
  change: 'added' | 'removed' | 'changed';
  /** `permit` or `forbid` (of the new version; of the old one when removed); absent for a link. */
  effect?: string;
}

/** What changed between two versions of a store, by policy id. */
export interface StoreDiff {
  old: { name: string; version: string };
  new: { name: string; version: string };
  changes: PolicyChange[];
  schema: 'unchanged' | 'added' | 'removed' | 'changed';
  /** Static entities (entities.json) by uid. */
  entities: { added: number; removed: number; changed: number };
}

/** JSON with object keys sorted: two policies are the same when their parsed forms are. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

/**
 * Compares by id, not by text: a policy is `changed` when its parsed form (scope, conditions,
 * annotations) differs, so reformatting, comments and moving a policy to another file are not
 * changes. A policy without `@id` is named by file and position, so moving one shows as a removal
 * and an addition; that is one more reason for `@id`.
 */
export function diffStores(a: CompiledStore, b: CompiledStore): StoreDiff {
  const changes: PolicyChange[] = [];
  const compare = (
    kind: 'policy' | 'template',
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ) => {
    const effect = (p: unknown) => (p as { effect?: string } | undefined)?.effect;
    for (const id of Object.keys(olds).sort()) {
      if (!(id in news)) changes.push({ id, kind, change: 'removed', ...opt('effect', effect(olds[id])) });
      else if (canonical(olds[id]) !== canonical(news[id]))
        changes.push({ id, kind, change: 'changed', ...opt('effect', effect(news[id])) });
    }
    for (const id of Object.keys(news).sort())
      if (!(id in olds)) changes.push({ id, kind, change: 'added', ...opt('effect', effect(news[id])) });
  };
  compare('policy', a.json.policies, b.json.policies);
  compare('template', a.json.templates, b.json.templates);
  const links = (s: CompiledStore) =>
    Object.fromEntries(s.links.map((l) => [l.newId, { templateId: l.templateId, values: l.values }]));
  const linkChanges: PolicyChange[] = [];
  const [la, lb] = [links(a), links(b)];
  for (const id of Object.keys(la).sort()) {
    if (!(id in lb)) linkChanges.push({ id, kind: 'link', change: 'removed' });
    else if (canonical(la[id]) !== canonical(lb[id]))
      linkChanges.push({ id, kind: 'link', change: 'changed' });
  }
  for (const id of Object.keys(lb).sort())
    if (!(id in la)) linkChanges.push({ id, kind: 'link', change: 'added' });
  changes.push(...linkChanges);

  const schema =
    a.schema === undefined
      ? b.schema === undefined
        ? 'unchanged'
        : 'added'
      : b.schema === undefined
        ? 'removed'
        : canonical(a.schema) === canonical(b.schema)
          ? 'unchanged'
          : 'changed';

  const byUid = (s: CompiledStore) => new Map(s.entities.map((e) => [canonical(e.uid), canonical(e)]));
  const [ea, eb] = [byUid(a), byUid(b)];
  const entities = { added: 0, removed: 0, changed: 0 };
  for (const [uid, e] of ea) {
    const other = eb.get(uid);
    if (other === undefined) entities.removed++;
    else if (other !== e) entities.changed++;
  }
  for (const uid of eb.keys()) if (!ea.has(uid)) entities.added++;

  return {
    old: { name: a.name, version: a.version },
    new: { name: b.name, version: b.version },
    changes,
    schema,
    entities,
  };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

/** The diff as text, one line per change. */
export function formatDiff(d: StoreDiff): string {
  const lines = [`policy changes in ${d.new.name} (${d.old.version} → ${d.new.version}):`];
  if (!d.changes.length) lines.push('  no policy, template or link changed');
  for (const c of d.changes)
    lines.push(`  ${c.change.padEnd(8)} ${c.kind.padEnd(8)} ${c.id}${c.effect ? ` (${c.effect})` : ''}`);
  const { added, removed, changed } = d.entities;
  lines.push(
    `  schema ${d.schema}; entities ${
      added + removed + changed ? `${added} added, ${removed} removed, ${changed} changed` : 'unchanged'
    }`,
  );
  return `${lines.join('\n')}\n`;
}
