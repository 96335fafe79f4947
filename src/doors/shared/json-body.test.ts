import { describe, expect, it } from 'vitest';
import { AuthzError } from '../../core/errors.js';
import { checkJsonValue, MAX_JSON_DEPTH, parseJsonBody } from './json-body.js';

const nested = (levels: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = i % 2 ? { k: value } : [value];
  return value;
};

describe('checkJsonValue', () => {
  it('accepts ordinary JSON, including non-ASCII text and surrogate pairs', () => {
    expect(checkJsonValue({ a: [1, 'two', null, true, { ключ: 'значение', emoji: '😀' }] })).toBeUndefined();
    expect(checkJsonValue('plain')).toBeUndefined();
    expect(checkJsonValue(null)).toBeUndefined();
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and rejects one more, naming the path`, () => {
    expect(checkJsonValue(nested(MAX_JSON_DEPTH))).toBeUndefined();
    const problem = checkJsonValue({ context: nested(MAX_JSON_DEPTH) });
    expect(problem?.message).toBe(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(problem?.path.split('.')).toHaveLength(MAX_JSON_DEPTH);
    expect(problem?.path).toMatch(/^context\.k\.0\.k\.0\./);
  });

  it('checks 100,000 levels without overflowing the stack', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(checkJsonValue(deep)?.message).toMatch(/nested deeper/);
  });

  it('rejects lone surrogates in values and keys', () => {
    expect(checkJsonValue({ principal: { id: 'a\ud800b' } })).toEqual({
      path: 'principal.id',
      message: 'not well-formed Unicode text',
    });
    expect(checkJsonValue({ context: { ['\udc00']: 1 } })).toMatchObject({ path: 'context.\udc00' });
  });

  it('rejects __proto__ keys (a validator would drop them silently)', () => {
    expect(checkJsonValue(JSON.parse('{"context": {"__proto__": {"mfa": true}}}'))).toEqual({
      path: 'context.__proto__',
      message: 'reserved key',
    });
  });
});

/** The field problems parseJsonBody reports for a body text (or 'ok' when it passes). */
const problemsOf = (text: string) => {
  try {
    parseJsonBody(text);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(AuthzError);
    return { code: (err as AuthzError).code, fields: (err as AuthzError).fields };
  }
};

describe('parseJsonBody: every rule holds whether or not the text pre-check lets the walk run', () => {
  it('passes an ordinary body', () => {
    expect(problemsOf('{"action":{"type":"A","id":"x"},"context":{"amount":9007199254740991}}')).toBe('ok');
  });

  it('refuses an integer beyond 2^53 - 1 naming the field, never rounding it', () => {
    expect(problemsOf('{"context":{"amount":9007199254740993}}')).toMatchObject({
      code: 'invalid_request',
      fields: [{ path: 'context.amount', message: expect.stringMatching(/2\^53/) }],
    });
    expect(problemsOf('{"context":{"n":[-9223372036854775808]}}')).toMatchObject({
      fields: [{ path: 'context.n.0' }],
    });
  });

  it('refuses reserved keys, also when spelled with escapes', () => {
    expect(problemsOf('{"context":{"constructor":1}}')).toMatchObject({
      fields: [{ path: 'context.constructor' }],
    });
    expect(problemsOf('{"context":{"\\u005f_proto__":{"mfa":true}}}')).toMatchObject({
      fields: [{ path: 'context.__proto__', message: 'reserved key' }],
    });
  });

  it('refuses a lone surrogate written as an escape', () => {
    expect(problemsOf('{"id":"a\\ud800b"}')).toMatchObject({ fields: [{ path: 'id' }] });
  });

  it('refuses nesting past the limit', () => {
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    expect(problemsOf(deep)).toMatchObject({
      fields: [{ message: `nested deeper than ${MAX_JSON_DEPTH} levels` }],
    });
    const atLimit = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(problemsOf(atLimit)).toBe('ok');
  });

  it('reports a syntax error by position only (the body may hold a secret)', () => {
    const answer = problemsOf('{"token": eyJhbGciOi}');
    expect(answer).toMatchObject({ code: 'invalid_json' });
  });
});
