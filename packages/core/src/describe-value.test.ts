import { describe, expect, it } from 'vitest';
import { describeValue } from './describe-value.ts';

describe('describeValue', () => {
  it('shows each kind of value the way a user would write it', () => {
    const cases: [unknown, string][] = [
      ['3000', '"3000"'],
      [-1, '-1'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [10n, '10n'],
      [true, 'true'],
      [null, 'null'],
      [undefined, 'undefined'],
      [Symbol('s'), 'Symbol(s)'],
      [function close() {}, 'function close'],
      [() => {}, 'function (anonymous)'],
      [{ port: 3000 }, '{"port":3000}'],
      [[1, 2], '[1,2]'],
      [new Map(), 'a Map instance'],
      [/listening on (\d+)/, '/listening on (\\d+)/'],
      [Promise.resolve(1), 'a Promise'],
    ];
    for (const [value, shown] of cases) expect(describeValue(value)).toBe(shown);
  });

  it('never throws, even on a cycle or a throwing toJSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const hostile = {
      toJSON() {
        throw new Error('no');
      },
    };

    expect(describeValue(cyclic)).toBe('[object Object]');
    expect(describeValue(hostile)).toBe('[object Object]');
    const bare = Object.create(null) as Record<string, unknown>;
    bare['self'] = bare;
    expect(describeValue(Object.create(null))).toBe('{}');
    expect(describeValue(bare)).toBe('[object Object]');
  });
});
