import { describe, expect, it } from 'vitest';
import { describeError } from './describe-error.ts';

describe('describeError: one bounded line for what was thrown', () => {
  it('an Error is `Name: message`, every line joined; brief: the first line of the message alone', () => {
    const error = new TypeError('first line\n  second   line');
    expect(describeError(error)).toBe('TypeError: first line second line');
    expect(describeError(error, { brief: true })).toBe('first line');
  });

  it('an Error without a message is its name', () => {
    expect(describeError(new Error())).toBe('Error');
    expect(describeError(new RangeError(''), { brief: true })).toBe('RangeError');
  });

  it('anything else is String(value); undefined is "unknown error"', () => {
    expect(describeError('a string, not an Error')).toBe('a string, not an Error');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('unknown error');
    expect(describeError('   ')).toBe('no message');
  });

  it('cuts to maxLength (default 200) with …', () => {
    expect(describeError(new Error('x'.repeat(300)))).toBe(`Error: ${'x'.repeat(192)}…`);
    expect(describeError(new Error('x'.repeat(300)))).toHaveLength(200);
    expect(describeError(new Error(`${'y'.repeat(300)}\nmore`), { brief: true, maxLength: 120 })).toBe(`${'y'.repeat(119)}…`);
  });

  it('redacts secrets a message quotes', () => {
    expect(describeError(new Error('cannot reach http://root:hunter2@10.0.0.5:2379'))).toBe('Error: cannot reach http://***@10.0.0.5:2379');
  });

  it('never throws, whatever was thrown', () => {
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    const getter = new Error('x');
    Object.defineProperty(getter, 'message', {
      get() {
        throw new Error('no');
      },
    });
    expect(describeError(hostile)).toBe('unprintable error');
    expect(describeError(getter)).toBe('unprintable error');
  });
});
