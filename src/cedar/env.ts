import type { EntityView } from './entities.js';
import type { CedarRecord, EntityRef, Value } from './values.js';

/**
 * What a compiled policy reads while deciding one request. One object per `authorize` call; the
 * slot fields are set per template link before its body runs (the body is shared by all links).
 */
export interface Env {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context: CedarRecord;
  entities: EntityView;
  slotPrincipal: EntityRef | undefined;
  slotResource: EntityRef | undefined;
}

/** A compiled expression. Throws `CedarEvalError` on Cedar evaluation errors. */
export type Expr = (env: Env) => Value;

/** Collects EST constructs the compiler does not know, so the caller can fall back to cedar-wasm. */
export class CompileIssues {
  readonly unsupported: string[] = [];
  report(what: string): void {
    this.unsupported.push(what);
  }
}
