import { describe, expect, it } from 'vitest';
import { compileMasks, parseMaskPath } from './mask.js';

describe('decision-log masks (pino redact syntax)', () => {
  it('masks keys, wildcards, bracketed keys and indexes, leaving everything else', () => {
    const mask = compileMasks([
      'context.accountNumber',
      'context.card.*',
      'context["x-api-key"]',
      'context.list[1]',
    ])!;
    const line = {
      context: {
        accountNumber: 'GB29',
        card: { pan: '4111', cvv: '123' },
        'x-api-key': 'k',
        list: [1, 2, 3],
        ok: 1,
      },
      decision: 'ALLOW',
    };
    expect(mask(line)).toEqual({
      context: {
        accountNumber: '***',
        card: { pan: '***', cvv: '***' },
        'x-api-key': '***',
        list: [1, '***', 3],
        ok: 1,
      },
      decision: 'ALLOW',
    });
  });

  it('never changes the object it is given (the request may be shared), and skips missing paths', () => {
    const mask = compileMasks(['context.secret', 'context.absent.deeper'])!;
    const context = { secret: 's', other: { a: 1 } };
    const line = { context };
    const out = mask(line);
    expect(out.context).toEqual({ secret: '***', other: { a: 1 } });
    expect(context.secret).toBe('s');
    expect((out.context as { other: unknown }).other).toBe(context.other);
  });

  it('refuses paths pino would refuse, saying where', () => {
    expect(() => parseMaskPath('context..x')).toThrow(/empty key/);
    expect(() => parseMaskPath('context[unquoted]')).toThrow(/inside \[\]/);
    expect(() => parseMaskPath('context.')).toThrow();
    expect(compileMasks([])).toBeUndefined();
  });
});
