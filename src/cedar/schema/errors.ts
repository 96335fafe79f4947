/**
 * The one error type schema checks raise. It surfaces as HTTP 400 `invalid_request`, so the message
 * names the cause in the caller's terms: where (`context.destinationCountry`, `entity User::"a"`
 * attribute `age`), what was expected and what was found.
 */

export type SchemaErrorKind =
  | 'invalid_schema'
  | 'type_mismatch'
  | 'invalid_value'
  | 'missing_attribute'
  | 'unexpected_attribute'
  | 'unknown_entity_type'
  | 'invalid_parent'
  | 'invalid_enum_entity'
  | 'unexpected_tag'
  | 'undeclared_action'
  | 'action_mismatch'
  | 'duplicate_entity'
  | 'hierarchy_cycle'
  | 'invalid_principal_type'
  | 'invalid_resource_type'
  | 'invalid_entity_uid';

export class SchemaValidationError extends Error {
  override readonly name = 'SchemaValidationError';
  /** The HTTP error code the sidecar reports for it. */
  readonly code = 'invalid_request';
  constructor(
    readonly kind: SchemaErrorKind,
    message: string,
    /** Dotted location of the offending value, when there is one (`context.a.b`, `User::"a".age`). */
    readonly path?: string,
  ) {
    super(message);
  }
}

/**
 * A problem found inside a value, before we know where the value sits. Record and set parsers add
 * their key on the way out (try/catch costs nothing until something throws), and the entry point
 * turns it into a SchemaValidationError with the whole path. Keeps the happy path free of string
 * building.
 */
export class ValueProblem {
  readonly segments: string[] = [];
  constructor(
    readonly kind: SchemaErrorKind,
    readonly detail: string,
  ) {}

  /** The path below the value's root: `.a.b[2]`, odd attribute names quoted (`["x y"]`). */
  suffix(): string {
    let path = '';
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i]!;
      path += /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : s.startsWith('[') ? s : `[${JSON.stringify(s)}]`;
    }
    return path;
  }

  /** Located at `root` (`context`): `context.a.b: expected long, got string "x"`. */
  at(root: string): SchemaValidationError {
    const path = root + this.suffix();
    return new SchemaValidationError(this.kind, `${path}: ${this.detail}`, path);
  }
}
