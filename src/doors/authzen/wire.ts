import { z } from 'zod';

/**
 * OpenID AuthZEN Authorization API 1.0 request shapes. Objects are open (unknown keys are
 * ignored, as the spec asks of metadata and interop clients send extra keys); the fields the spec
 * requires are required.
 */

const Properties = z.record(z.string(), z.json()).optional();

export const SubjectWire = z.object({
  type: z.string().min(1),
  id: z.string().min(1),
  properties: Properties,
});
export const ResourceWire = z.object({
  type: z.string().min(1),
  id: z.string().min(1),
  properties: Properties,
});
export const ActionWire = z.object({ name: z.string().min(1), properties: Properties });
export const ContextWire = z.record(z.string(), z.json());

export const EvaluationBody = z.object({
  subject: SubjectWire,
  action: ActionWire,
  resource: ResourceWire,
  context: ContextWire.optional(),
});
export type EvaluationBody = z.infer<typeof EvaluationBody>;

export const EVALUATIONS_SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;
export type EvaluationsSemantic = (typeof EVALUATIONS_SEMANTICS)[number];

/** One item of `evaluations`: each key, when present, replaces the top-level default whole. */
export const EvaluationItem = z.object({
  subject: SubjectWire.optional(),
  action: ActionWire.optional(),
  resource: ResourceWire.optional(),
  context: ContextWire.optional(),
});
export type EvaluationItem = z.infer<typeof EvaluationItem>;

/**
 * Top-level subject/action/resource/context are defaults for each item; an item's own value wins.
 * The items are checked one by one (`EvaluationItem`), so that one bad item fails alone.
 */
export const EvaluationsBody = z.object({
  subject: SubjectWire.optional(),
  action: ActionWire.optional(),
  resource: ResourceWire.optional(),
  context: ContextWire.optional(),
  evaluations: z.array(z.unknown()).optional(),
  options: z.object({ evaluations_semantic: z.enum(EVALUATIONS_SEMANTICS).optional() }).optional(),
});
export type EvaluationsBody = z.infer<typeof EvaluationsBody>;
