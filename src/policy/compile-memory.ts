import '../cedar/v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Entity } from '../cedar/types.js';
import { finishStore } from './compile-store.js';
import { describeCedarError, located } from './problems.js';
import type { CompiledStore, PolicySource, StoreProblem, TemplateLink } from './types.js';
import { contentVersion } from './version.js';

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
        problems.push({ file: `${input.origin}/schema`, message: describeCedarError(err) });
    }
  }
  const version = contentVersion([
    ...Object.entries(policies).map(([id, text]) => [`policy:${id}`, text] as const),
    ...Object.entries(templates).map(([id, text]) => [`template:${id}`, text] as const),
    ['links', JSON.stringify(input.links)],
    ['schema', JSON.stringify(schema ?? null)],
    ['entities', JSON.stringify(input.entities)],
  ]);
  return finishStore(
    name,
    { policies, templates, links: input.links, schema, entities: input.entities, sources, json: parsed },
    problems,
    {
      version,
      schemaFile: `${input.origin}/schema`,
      linksFile: `${input.origin}/template-linked policies`,
      entitiesFile: `${input.origin}/entities`,
    },
    (file) => texts.get(file) ?? '',
  );
}
