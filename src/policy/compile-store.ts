import '../cedar/v8-flags.js';
import { createHash } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Entity } from '../cedar/types.js';
import { StartupError } from '../core/errors.js';
import type { CompiledStore, PolicySource, StoreFile, StoreProblem, TemplateLink } from './types.js';

/** A store that failed to parse or validate; `problems` carry file, line and message. */
export class StoreLoadError extends StartupError {
  constructor(
    readonly store: string,
    readonly problems: StoreProblem[],
  ) {
    super(
      `policy store "${store}" failed to load:\n${problems.map((p) => `- ${formatProblem(p)}`).join('\n')}`,
    );
    this.name = 'StoreLoadError';
  }
}

export function formatProblem(p: StoreProblem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}: ${p.policyId ? `policy "${p.policyId}": ` : ''}${p.message}`;
}

/** Line and column (1-based) of a byte offset in a text. Cedar reports byte offsets. */
export function lineColumn(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

function describe(err: cedar.DetailedError): string {
  const label = err.sourceLocations?.find((l) => l.label)?.label;
  return [err.message, label ? `(${label})` : '', err.help ? `— ${err.help}` : ''].filter(Boolean).join(' ');
}

function located(
  file: string,
  text: string,
  base: number,
  err: cedar.DetailedError,
  policyId?: string,
): StoreProblem {
  const loc = err.sourceLocations?.[0];
  const pos = loc ? lineColumn(text, base + loc.start) : undefined;
  return { file, ...(pos ?? {}), ...(policyId ? { policyId } : {}), message: describe(err) };
}

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
function finishStore(
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
    for (const link of links) {
      if (linkIds.has(link.newId)) {
        problems.push({ file: origins.linksFile, message: `duplicate link id "${link.newId}"` });
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
      for (const err of check.errors) problems.push({ file: origins.entitiesFile, message: describe(err) });
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
      for (const err of check.errors) problems.push({ file: origins.linksFile, message: describe(err) });
    else if (result?.type === 'failure')
      for (const err of result.errors)
        problems.push({ file: origins.schemaFile ?? '(schema)', message: describe(err) });
  } else {
    for (const v of result.validationErrors) {
      const src = sources[v.policyId];
      if (src) problems.push(located(src.file, textOf(src.file), src.offset, v.error, v.policyId));
      else problems.push({ file: origins.linksFile, policyId: v.policyId, message: describe(v.error) });
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

/**
 * `policySetTextToParts` over a large file in chunks of about 100 statements. wasm code has no
 * on-stack replacement, so one long call runs in V8's baseline tier from start to end (about ten
 * times slower); later chunks run optimized.
 *
 * The chunks are cut only after a `;` token, found by `splitStatements`, which reads strings and
 * comments exactly as Cedar's lexer does. Cedar uses `;` only to end a statement and no token spans
 * it, so the chunks lex as the file does, the file's statements are the chunks' statements, and
 * the file parses if and only if every chunk does. If any chunk fails, the whole file is parsed at
 * once, so errors and their locations are exactly Cedar's.
 */
function textToParts(text: string): cedar.PolicySetTextToPartsAnswer {
  const chunks = splitStatements(text, 100);
  if (chunks.length < 2) return cedar.policySetTextToParts(text);
  const policies: string[] = [];
  const templates: string[] = [];
  for (const chunk of chunks) {
    const parts = cedar.policySetTextToParts(chunk);
    if (parts.type === 'failure') return cedar.policySetTextToParts(text);
    policies.push(...parts.policies);
    templates.push(...parts.policy_templates);
  }
  return { type: 'success', policies, policy_templates: templates };
}

export type Part = { kind: 'policy' | 'template'; text: string; offset: number };
type PartLists = { policies: string[]; policy_templates: string[] };

/** Cedar's whitespace: Rust's `\s`, Unicode White_Space (JavaScript's `\s` adds U+FEFF, lacks U+0085). */
const CEDAR_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/**
 * The parts of a file in file order, each with its byte offset (to locate later errors; ordinal ids
 * `<file>#<n>` follow this order). Cedar returns each kind sorted by its generated id as a string
 * (`policy0`, `policy1`, `policy10`, `policy2`…), not in file order, so each statement of the file
 * is matched to the part with its text: a statement's text runs from its first token (after
 * whitespace and `//` comments, as Cedar skips them) to its `;`, exactly as Cedar cuts it. Should
 * a statement match no part, each statement is parsed alone instead (`byStatement`).
 */
export function inFileOrder(content: string, parts: PartLists): Part[] | undefined {
  const pending = new Map<string, Part['kind'][]>();
  for (const [kind, list] of [
    ['policy', parts.policies],
    ['template', parts.policy_templates],
  ] as const)
    for (const text of list) {
      const kinds = pending.get(text);
      if (kinds) kinds.push(kind);
      else pending.set(text, [kind]);
    }
  const out: Part[] = [];
  let bytes = 0;
  let counted = 0;
  let start = 0;
  for (const chunk of splitStatements(content, 1)) {
    const end = start + chunk.length;
    const p = firstToken(content, start, end);
    start = end;
    if (p >= end) continue; // trailing whitespace and comments
    const text = content.slice(p, end);
    const kind = pending.get(text)?.shift();
    if (kind === undefined) return byStatement(content);
    bytes += Buffer.byteLength(content.slice(counted, p), 'utf8');
    out.push({ kind, text, offset: bytes });
    bytes += Buffer.byteLength(text, 'utf8');
    counted = end;
  }
  for (const kinds of pending.values()) if (kinds.length) return byStatement(content);
  return out;
}

/** Where the first token at or after `from` is (`end` if none before it): Cedar's whitespace and comments skipped. */
function firstToken(content: string, from: number, end: number): number {
  let p = from;
  for (;;) {
    while (p < end && CEDAR_SPACE.test(content[p]!)) p++;
    if (p >= end || !content.startsWith('//', p)) return p;
    while (p < end && content[p] !== '\n' && content[p] !== '\r') p++;
  }
}

/**
 * Fallback of `inFileOrder`, slower and exact: each statement parsed alone by Cedar, in file order.
 * A statement's part ends at the statement's `;`. Undefined if a statement does not give one part.
 */
function byStatement(content: string): Part[] | undefined {
  const out: Part[] = [];
  let bytes = 0;
  for (const chunk of splitStatements(content, 1)) {
    const chunkBytes = Buffer.byteLength(chunk, 'utf8');
    const parts = cedar.policySetTextToParts(chunk);
    if (parts.type === 'failure') return undefined;
    const found: Part[] = [
      ...parts.policies.map((text) => ({ kind: 'policy' as const, text, offset: 0 })),
      ...parts.policy_templates.map((text) => ({ kind: 'template' as const, text, offset: 0 })),
    ];
    if (found.length > 1 || (found.length === 1 && !chunk.endsWith(found[0]!.text))) return undefined;
    if (found.length === 1)
      out.push({ ...found[0]!, offset: bytes + chunkBytes - Buffer.byteLength(found[0]!.text, 'utf8') });
    bytes += chunkBytes;
  }
  return out;
}

/**
 * Cuts Cedar policy text after every `per`-th `;` token: outside string literals (`"`, with `\`
 * escaping the next character) and `//` comments (to the end of the line: `\n` or `\r`), as
 * Cedar's lexer reads them. The chunks joined are the text.
 */
export function splitStatements(text: string, per: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  let statements = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      for (i += 2; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 10 /* \n */ || d === 13 /* \r */) break;
      }
    } else if (c === 59 /* ; */ && ++statements % per === 0) {
      chunks.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) chunks.push(text.slice(start));
  return chunks;
}

/** A store's content held in memory, as a sync engine pulls it: one Cedar statement per id. */
export interface MemoryStore {
  policies: Record<string, string>;
  templates: Record<string, string>;
  links: TemplateLink[];
  /** Cedar schema, JSON text or object, or human-readable text. */
  schema?: string | Record<string, unknown>;
  entities: Entity[];
  /** What problems point at, e.g. `avp:PSEXAMPLE`: a policy is `<origin>/policies/<id>`. */
  origin: string;
}

/**
 * Validates a store held in memory the same way `compileStore` validates folders (parse, link,
 * schema validation, entities), and returns the same CompiledStore. Ids are the given keys; the
 * version is a content hash.
 */
export function compileMemoryStore(name: string, input: MemoryStore): CompiledStore {
  const problems: StoreProblem[] = [];
  const sources: Record<string, PolicySource> = Object.create(null) as Record<string, PolicySource>;
  const policies: Record<string, string> = Object.create(null) as Record<string, string>;
  const templates: Record<string, string> = Object.create(null) as Record<string, string>;
  const texts = new Map<string, string>();
  const parsed: CompiledStore['json'] = { policies: Object.create(null), templates: Object.create(null) };
  for (const [kind, list] of [
    ['policy', input.policies],
    ['template', input.templates],
  ] as const) {
    for (const [id, text] of Object.entries(list)) {
      const file = `${input.origin}/${kind === 'policy' ? 'policies' : 'templates'}/${id}`;
      texts.set(file, text);
      if (sources[id]) {
        problems.push({ file, message: `duplicate policy id "${id}"` });
        continue;
      }
      const json = kind === 'policy' ? cedar.policyToJson(text) : cedar.templateToJson(text);
      if (json.type === 'failure') {
        for (const err of json.errors) problems.push(located(file, text, 0, err, id));
        continue;
      }
      (kind === 'policy' ? policies : templates)[id] = text;
      (kind === 'policy' ? parsed.policies : parsed.templates)[id] = json.json;
      sources[id] = { file, offset: 0, text };
    }
  }
  let schema = input.schema;
  if (typeof schema === 'string' && schema.trimStart().startsWith('{')) {
    try {
      schema = JSON.parse(schema) as Record<string, unknown>;
    } catch (err) {
      problems.push({ file: `${input.origin}/schema`, message: `invalid JSON: ${(err as Error).message}` });
    }
  }
  if (schema !== undefined && problems.length === 0) {
    const check = cedar.checkParseSchema(schema as cedar.Schema);
    if (check.type === 'failure') {
      for (const err of check.errors)
        problems.push({ file: `${input.origin}/schema`, message: describe(err) });
    }
  }
  const hash = createHash('sha256');
  for (const [tag, record] of [
    ['p', policies],
    ['t', templates],
  ] as const)
    for (const id of Object.keys(record).sort()) hash.update(tag).update(id).update('\0').update(record[id]!);
  hash
    .update(JSON.stringify(input.links))
    .update('\0')
    .update(JSON.stringify(schema ?? null));
  hash.update('\0').update(JSON.stringify(input.entities));
  return finishStore(
    name,
    { policies, templates, links: input.links, schema, entities: input.entities, sources, json: parsed },
    problems,
    {
      version: hash.digest('hex').slice(0, 12),
      schemaFile: `${input.origin}/schema`,
      linksFile: `${input.origin}/template-linked policies`,
      entitiesFile: `${input.origin}/entities`,
    },
    (file) => texts.get(file) ?? '',
  );
}

/** The store version: a content hash over every file that affects decisions. */
export function versionOf(files: StoreFile[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1)))
    hash.update(f.path).update('\0').update(f.content).update('\0');
  return hash.digest('hex').slice(0, 12);
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
  const seen = new Set<string>();
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
    if (seen.has(link.newId!))
      problems.push({ file, message: `entry ${i}: duplicate link id "${link.newId}"` });
    seen.add(link.newId!);
    out.push({ templateId: link.templateId!, newId: link.newId!, values: link.values! });
  });
  return out;
}
