import type { PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { Entity, EntityUid } from '../cedar/types.js';

/** A file of a store as read from disk (path relative to the store folder). */
export interface StoreFile {
  path: string;
  content: string;
}

/** Where a policy came from, so validation errors point at file and line. */
export interface PolicySource {
  file: string;
  /** Byte offset of the policy's text within its file. */
  offset: number;
  text: string;
}

/** A template link, as AVP's template-linked policies: `newId` instantiates `templateId`. */
export interface TemplateLink {
  templateId: string;
  newId: string;
  values: Record<string, EntityUid>;
}

/** A parsed and validated store version, ready to hand to an engine. */
export interface CompiledStore {
  name: string;
  /** Content hash of every file that affects decisions. */
  version: string;
  policies: Record<string, string>;
  templates: Record<string, string>;
  links: TemplateLink[];
  /** Cedar schema, text or JSON; undefined when the store has none (then nothing is validated). */
  schema?: string | Record<string, unknown>;
  entities: Entity[];
  sources: Record<string, PolicySource>;
  /**
   * Cedar's JSON form of each static policy and template, by id: scope slicing reads scopes from it
   * and preparses slices from it.
   */
  json: { policies: Record<string, PolicyJson>; templates: Record<string, PolicyJson> };
}

/** One located problem in a store. */
export interface StoreProblem {
  file: string;
  line?: number;
  column?: number;
  policyId?: string;
  message: string;
}
