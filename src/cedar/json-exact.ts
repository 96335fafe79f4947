/**
 * JSON parsing that keeps integers beyond ±(2^53 − 1) exact, as `bigint`.
 *
 * Node 20's `JSON.parse` has no access to a number's source text, so `9223372036854775807` would
 * silently become `9223372036854775808`. Cedar longs are 64-bit, so data at the limits must
 * survive. Fast path: when the text holds no run of 16+ digits, no integer can be unsafe and plain
 * `JSON.parse` is used. Otherwise a small hand parser runs; it is a faithful JSON parser (strict
 * grammar, `__proto__` is an ordinary key defined as an own property), not a validator of Cedar
 * shapes.
 */

export type ExactJson = null | boolean | number | bigint | string | ExactJson[] | { [k: string]: ExactJson };

const LONG_DIGITS = /[0-9]{16}/;

export function parseJsonExact(text: string): ExactJson {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text) as ExactJson;
  const p = new Parser(text);
  p.ws();
  const v = p.value();
  p.ws();
  if (p.i !== text.length) p.fail('unexpected trailing characters');
  return v;
}

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(msg: string): never {
    throw new SyntaxError(`JSON: ${msg} at position ${this.i}`);
  }

  ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++this.i);
  }

  value(): ExactJson {
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail('unexpected token');
    this.i += word.length;
    return v;
  }

  number(): number | bigint {
    NUMBER_RE.lastIndex = this.i;
    const m = NUMBER_RE.exec(this.s);
    if (m === null) this.fail('unexpected token');
    this.i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  }

  string(): string {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(j);
      if (Number.isNaN(c)) {
        this.i = j;
        this.fail('unterminated string');
      }
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 0x20) {
        this.i = j;
        this.fail('control character in string');
      }
      j++;
    }
    this.i = j + 1;
    // Escapes are decoded by the platform parser, which knows the rules exactly.
    return escaped ? (JSON.parse(s.slice(start, j + 1)) as string) : s.slice(start + 1, j);
  }

  array(): ExactJson[] {
    this.i++;
    const out: ExactJson[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  object(): { [k: string]: ExactJson } {
    this.i++;
    const out: { [k: string]: ExactJson } = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') this.fail("expected ':'");
      this.ws();
      const v = this.value();
      // defineProperty, so `__proto__` is an own data property as with JSON.parse.
      Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
  }
}
