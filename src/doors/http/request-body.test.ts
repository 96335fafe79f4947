import { describe, expect, it } from 'vitest';
import { checkJsonValue, MAX_JSON_DEPTH } from './request-body.js';

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
