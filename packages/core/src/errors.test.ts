import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, InvalidOptionError } from './errors.ts';

describe('errors', () => {
  it('carry a name, a stable code and an optional cause', () => {
    const cause = new Error('root');
    const errors = [
      [new InvalidOptionError('timeoutMs', -1, 'a number ≥ 0', { cause }), 'InvalidOptionError', 'QUIESCE_INVALID_OPTION'],
      [new DeadlineExceededError(500, { cause }), 'DeadlineExceededError', 'QUIESCE_DEADLINE_EXCEEDED'],
    ] as const;
    for (const [error, name, code] of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error.cause).toBe(cause);
      expect(String(error)).toMatch(new RegExp(`^${name}: `));
    }
  });

  it('an option error names the option and the value, says what was expected, and keeps all three for code', () => {
    const error = new InvalidOptionError('deadlineMs', -5, 'a finite number of milliseconds ≥ 0');

    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('Invalid deadlineMs: -5. Expected a finite number of milliseconds ≥ 0.');
    expect(error).toMatchObject({ option: 'deadlineMs', value: -5, expected: 'a finite number of milliseconds ≥ 0' });
  });

  it('a package subclass keeps its own name and code and is still caught as InvalidOptionError', () => {
    class PoolOptionError extends InvalidOptionError {
      override readonly name: string = 'PoolOptionError';
      override readonly code: 'POOL_INVALID_OPTION' = 'POOL_INVALID_OPTION';
    }
    const error = new PoolOptionError('size', 0, 'at least 1');

    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(String(error)).toBe('PoolOptionError: Invalid size: 0. Expected at least 1.');
    expect(error.code).toBe('POOL_INVALID_OPTION');
  });

  it('tell the user what to do', () => {
    expect(new DeadlineExceededError(500).message).toMatch(/more time|AbortSignal/);
  });
});
