/**
 * A schema compiled for the request path: the model plus parsers built once per store version.
 * Context parsers are built per action on first use (most stores use a few actions).
 */
import { compileSchemaModel, loadSchemaJson } from './compile-schema.js';
import type { ExtensionRegistry } from './extensions.js';
import { defaultExtensions } from './default-extensions.js';
import type { ActionInfo, EntityTypeInfo, SchemaModel } from './model.js';
import { compileParser, type Parser, type ParserEnv } from './parse-value.js';

export interface EntityTypeCheckers {
  readonly info: EntityTypeInfo;
  /** Strict parser per declared attribute. */
  readonly attrs: ReadonlyMap<string, Parser>;
  readonly required: readonly string[];
  readonly tags: Parser | undefined;
}

export class CompiledSchema {
  private readonly strict: ParserEnv;
  private readonly lenient: ParserEnv;
  private readonly types = new Map<string, EntityTypeCheckers>();
  private readonly contexts = new Map<string, Parser>();

  constructor(
    readonly model: SchemaModel,
    readonly ext: ExtensionRegistry,
  ) {
    this.strict = { model, ext, strict: true };
    this.lenient = { model, ext, strict: false };
    for (const info of model.entityTypes.values()) {
      const attrs = new Map<string, Parser>();
      const required: string[] = [];
      for (const [name, a] of info.shape.attrs) {
        attrs.set(name, compileParser(a.type, this.strict));
        if (a.required) required.push(name);
      }
      this.types.set(info.name, {
        info,
        attrs,
        required,
        tags: info.tags ? compileParser(info.tags, this.strict) : undefined,
      });
    }
  }

  entityType(name: string): EntityTypeCheckers | undefined {
    return this.types.get(name);
  }

  action(key: string): ActionInfo | undefined {
    return this.model.actions.get(key);
  }

  /** The context parser of a declared action: strict when the request is validated. */
  contextParser(action: ActionInfo, validate: boolean): Parser {
    const k = (validate ? 's' : 'l') + action.uid.key;
    let p = this.contexts.get(k);
    if (!p) {
      p = compileParser(action.context, validate ? this.strict : this.lenient);
      this.contexts.set(k, p);
    }
    return p;
  }
}

/** Cedar schema text or JSON → CompiledSchema. Throws SchemaValidationError('invalid_schema'). */
export function compileSchema(
  schema: string | object,
  ext: ExtensionRegistry = defaultExtensions,
): CompiledSchema {
  return new CompiledSchema(compileSchemaModel(loadSchemaJson(schema)), ext);
}
