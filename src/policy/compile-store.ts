import '../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Entity } from '../cedar/types.js';
import { inFileOrder, textToParts } from './cedar-text.js';
import { describeCedarError, lineColumn, located, StoreLoadError } from './problems.js';
import type { CompiledStore, PolicySource, StoreFile, StoreProblem, TemplateLink } from './types.js';
import { versionOf } from './version.js';

/**
 * Parses and validates a store's files into a CompiledStore. Every problem is collected and thrown
 * at once as a StoreLoadError, so one run shows everything to fix.
 *
 * Policy ids come from `@id("...")`; otherwise `<file>#<n>`, the policy's position in its file
 * (stable while the file's order is, which is why `@id` is recommended).
 */
export function compileStore(name: string, files: StoreFile[]): CompiledStore {
  const problems: StoreProblem[] = [];
  // Keyed by policy id, which the policy author chooses: without a prototype, ids such as
  // "constructor" or "__proto__" are plain keys (no false duplicates, no policy silently lost).
  const policies: Record<string, string> = Object.create(null);
  const templates: Record<string, string> = Object.create(null);
  const parsed: CompiledStore['json'] = { policies: Object.create(null), templates: Object.create(null) };
  const sources: Record<string, PolicySource> = Object.create(null);
  let links: TemplateLink[] = [];
  let schema: string | Record<string, unknown> | undefined;
  let schemaFile: string | undefined;
  let entities: Entity[] = [];

  const addPolicy = (
    kind: 'policy' | 'template',
    text: string,
    file: string,
    offset: number,
    ordinal: number,
  ) => {
    const json = kind === 'policy' ? cedar.policyToJson(text) : cedar.templateToJson(text);
    const annotated = json.type === 'success' ? json.json.annotations?.id : undefined;
    const id = annotated ?? `${file}#${ordinal}`;
    const first = sources[id];
    if (first) {
      problems.push({
        file,
        ...lineColumn(readFileText(files, file), offset),
        message: `duplicate policy id "${id}" (first defined in ${first.file})`,
      });
      return;
    }
    (kind === 'policy' ? policies : templates)[id] = text;
    if (json.type === 'success') (kind === 'policy' ? parsed.policies : parsed.templates)[id] = json.json;
    sources[id] = { file, offset, text };
  };

  for (const file of files) {
    if (file.path.endsWith('.cedar')) {
      const parts = textToParts(file.content);
      if (parts.type === 'failure') {
        for (const err of parts.errors) problems.push(located(file.path, file.content, 0, err));
        continue;
      }
      const found = inFileOrder(file.content, parts);
      if (!found) {
        // Not expected: Cedar parsed the file, but its statements could not be put in file order.
        problems.push({
          file: file.path,
          message: 'could not put the policies in file order (a bug: please report it)',
        });
        continue;
      }
      for (const [i, p] of found.entries()) addPolicy(p.kind, p.text, file.path, p.offset, i);
    } else if (
      file.path.endsWith('.cedarschema') ||
      file.path.endsWith('.cedarschema.json') ||
      file.path === 'schema.json'
    ) {
      if (schemaFile) {
        problems.push({ file: file.path, message: `a store has one schema; ${schemaFile} is already one` });
        continue;
      }
      schemaFile = file.path;
      let candidate: string | Record<string, unknown>;
      if (file.path.endsWith('.json')) {
        const parsed = parseJson(file, problems);
        if (parsed === undefined) continue;
        candidate = parsed as Record<string, unknown>;
      } else candidate = file.content;
      const check = cedar.checkParseSchema(candidate as cedar.Schema);
      if (check.type === 'failure') {
        for (const err of check.errors) problems.push(located(file.path, file.content, 0, err));
      } else schema = candidate;
    } else if (file.path === 'entities.json') {
      const parsed = parseJson(file, problems);
      if (parsed !== undefined) {
        if (!Array.isArray(parsed))
          problems.push({ file: file.path, message: 'must be an array of entities' });
        else entities = parsed as Entity[];
      }
    } else if (file.path === 'links.json') {
      const parsed = parseJson(file, problems);
      if (parsed !== undefined) links = checkLinks(file.path, parsed, problems);
    }
  }

  return finishStore(
    name,
    { policies, templates, links, schema, entities, sources, json: parsed },
    problems,
    { version: versionOf(files), schemaFile, linksFile: 'links.json', entitiesFile: 'entities.json' },
    (file) => readFileText(files, file),
  );
}

/** The parts of a store, however they were obtained (files, or AVP's policy-management API). */
export type StoreParts = Omit<CompiledStore, 'name' | 'version'>;

interface PartOrigins {
  version: string;
  /** Names that problems point at for the schema, the links and the entities. */
  schemaFile: string | undefined;
  linksFile: string;
  entitiesFile: string;
}

/** The checks every store passes, whatever it came from: links, the policy set, the schema, the entities. */
export function finishStore(
  name: string,
  parts: StoreParts,
  problems: StoreProblem[],
  origins: PartOrigins,
  textOf: (file: string) => string,
): CompiledStore {
  const { policies, templates, links, schema, entities, sources } = parts;
  if (problems.length === 0) {
    // Link ids are checked here, for every origin: Cedar sees only one link of each kind below.
    const linkIds = new Set<string>();
    for (const [i, link] of links.entries()) {
      if (linkIds.has(link.newId)) {
        problems.push({ file: origins.linksFile, message: `entry ${i}: duplicate link id "${link.newId}"` });
        continue;
      }
      linkIds.add(link.newId);
      if (!Object.hasOwn(templates, link.templateId)) {
        problems.push({
          file: origins.linksFile,
          message: `link "${link.newId}" names unknown template "${link.templateId}"`,
        });
      } else if (Object.hasOwn(sources, link.newId)) {
        problems.push({
          file: origins.linksFile,
          message: `link id "${link.newId}" is already a policy id`,
        });
      }
    }
  }

  const policySet: cedar.PolicySet = { staticPolicies: policies, templates, templateLinks: links };
  if (problems.length === 0) {
    // Cedar validates a template once and each link only for its slot values' entity types, so links
    // alike in template, slots and entity types get the same verdict: one of each kind stands in for
    // the rest (ids are checked above). 10,000 tenant links are then a handful of checks. Anything
    // found is reported from the full set, as before, with every link named.
    const fast = checkPolicySet(
      { ...policySet, templateLinks: representativeLinks(links, idMatters(schema)) },
      schema,
      sources,
      origins,
      textOf,
    );
    if (fast.length > 0) problems.push(...checkPolicySet(policySet, schema, sources, origins, textOf));
  }
  if (problems.length === 0 && entities.length > 0) {
    const check = cedar.checkParseEntities({
      entities: entities as cedar.Entities,
      schema: (schema ?? null) as cedar.Schema | null,
    });
    if (check.type === 'failure')
      for (const err of check.errors)
        problems.push({ file: origins.entitiesFile, message: describeCedarError(err) });
  }

  if (problems.length > 0) throw new StoreLoadError(name, problems);
  return {
    name,
    version: origins.version,
    policies,
    templates,
    links,
    schema,
    entities,
    sources,
    json: parts.json,
  };
}

/**
 * Parses, links and (with a schema) validates a policy set; the located problems. With a schema one
 * `validate` does all of it (a separate parse check would double the work); without, a parse check.
 */
function checkPolicySet(
  policySet: cedar.PolicySet,
  schema: string | Record<string, unknown> | undefined,
  sources: Record<string, PolicySource>,
  origins: PartOrigins,
  textOf: (file: string) => string,
): StoreProblem[] {
  const problems: StoreProblem[] = [];
  const result =
    schema === undefined
      ? undefined
      : cedar.validate({
          schema: schema as cedar.Schema,
          policies: policySet,
          validationSettings: { mode: 'strict' },
        });
  if (result === undefined || result.type === 'failure') {
    // No schema, or something failed before validation: is it the policy set (links) or the schema?
    const check = cedar.checkParsePolicySet(policySet);
    if (check.type === 'failure')
      for (const err of check.errors)
        problems.push({ file: origins.linksFile, message: describeCedarError(err) });
    else if (result?.type === 'failure')
      for (const err of result.errors)
        problems.push({ file: origins.schemaFile ?? '(schema)', message: describeCedarError(err) });
  } else {
    for (const v of result.validationErrors) {
      const src = sources[v.policyId];
      if (src) problems.push(located(src.file, textOf(src.file), src.offset, v.error, v.policyId));
      else
        problems.push({
          file: origins.linksFile,
          policyId: v.policyId,
          message: describeCedarError(v.error),
        });
    }
    // Cedar reports validation errors in no fixed order (seen: b before a on one run, a before b on
    // the next): sort them by place, so a user (and a test) sees the same list every time.
    problems.sort(
      (a, b) =>
        a.file.localeCompare(b.file) ||
        (a.line ?? 0) - (b.line ?? 0) ||
        (a.column ?? 0) - (b.column ?? 0) ||
        a.message.localeCompare(b.message),
    );
  }
  return problems;
}

/**
 * One link per kind: same template, same slots, same entity type and fields in each slot (in the
 * same order: a different order only costs one more check). Cedar's
 * link checks look at slot values' entity types (known to the schema, applicable to the template's
 * actions), not their ids — except, to be safe, for action and enumerated entity types, whose ids
 * the kind keeps.
 */
export function representativeLinks(
  links: TemplateLink[],
  idMatters: (type: string) => boolean = () => false,
): TemplateLink[] {
  const byKind = new Map<string, TemplateLink>();
  for (const link of links) {
    let kind = link.templateId;
    for (const slot in link.values) {
      const v = link.values[slot]! as unknown as Record<string, unknown>;
      const type = String(v.type);
      kind += `\u0000${slot}\u0000${type}\u0000${Object.keys(v).join(',')}`;
      if (idMatters(type)) kind += `\u0000${String(v.id)}`;
    }
    if (!byKind.has(kind)) byKind.set(kind, link);
  }
  return [...byKind.values()];
}

/** Entity types whose ids a link check may look at: actions and the schema's enumerated types. */
function idMatters(schema: string | Record<string, unknown> | undefined): (type: string) => boolean {
  const enums = new Set<string>();
  if (schema !== undefined) {
    const json = cedar.schemaToJson(schema as cedar.Schema);
    if (json.type === 'success')
      for (const [ns, def] of Object.entries(json.json as Record<string, { entityTypes?: object }>))
        for (const [name, t] of Object.entries(def.entityTypes ?? {}))
          if (t && typeof t === 'object' && 'enum' in t) enums.add(ns ? `${ns}::${name}` : name);
  }
  return (type) => type === 'Action' || type.endsWith('::Action') || enums.has(type);
}

function readFileText(files: StoreFile[], path: string): string {
  return files.find((f) => f.path === path)?.content ?? '';
}

function parseJson(file: StoreFile, problems: StoreProblem[]): unknown {
  try {
    return JSON.parse(file.content);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const pos = m ? lineColumn(file.content, Buffer.byteLength(file.content.slice(0, Number(m[1])))) : {};
    problems.push({ file: file.path, ...pos, message: `invalid JSON: ${(err as Error).message}` });
    return undefined;
  }
}

function checkLinks(file: string, parsed: unknown, problems: StoreProblem[]): TemplateLink[] {
  if (!Array.isArray(parsed)) {
    problems.push({ file, message: 'must be an array of {templateId, newId, values}' });
    return [];
  }
  const out: TemplateLink[] = [];
  parsed.forEach((l: unknown, i) => {
    const link = l as Partial<TemplateLink>;
    const ok =
      link &&
      typeof link.templateId === 'string' &&
      typeof link.newId === 'string' &&
      link.values !== null &&
      typeof link.values === 'object' &&
      Object.entries(link.values).every(
        ([slot, v]) =>
          (slot === '?principal' || slot === '?resource') &&
          v &&
          typeof v.type === 'string' &&
          typeof v.id === 'string',
      );
    if (!ok) {
      problems.push({
        file,
        message: `entry ${i}: expected {templateId, newId, values: {"?principal"|"?resource": {type, id}}}`,
      });
      return;
    }
    // Duplicate ids are finishStore's to report, for links of every origin.
    out.push({ templateId: link.templateId!, newId: link.newId!, values: link.values! });
  });
  return out;
}
