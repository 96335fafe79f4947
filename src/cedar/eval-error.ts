/**
 * The one error a compiled policy throws while evaluating. The authorizer catches it, skips the
 * policy and lists it under `errors` (Cedar compares only policy ids, so the message is for people:
 * it says what failed and on which value).
 */
export class CedarEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CedarEvalError';
  }
}

import { typeName, type Value } from './values.js';

/** `type error: expected <what>, got <type>` as Cedar words it. */
export function typeError(expected: string, got: Value): CedarEvalError {
  return new CedarEvalError(`type error: expected ${expected}, got ${typeName(got)}`);
}
