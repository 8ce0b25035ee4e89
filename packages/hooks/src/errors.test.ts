import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '@quiesce/core';
import { HooksOptionError, HooksStateError, HookTimeoutError } from './errors.ts';

describe('errors', () => {
  it('carry a name, a stable code and an optional cause', () => {
    const cause = new Error('root');
    const errors = [
      [new HooksOptionError('timeoutMs', -1, 'a number ≥ 0', { cause }), 'HooksOptionError', 'QUIESCE_HOOKS_INVALID_OPTION'],
      [new HooksStateError('late', { cause }), 'HooksStateError', 'QUIESCE_HOOKS_ALREADY_RUNNING'],
      [new HookTimeoutError('db', 100, { cause }), 'HookTimeoutError', 'QUIESCE_HOOK_TIMEOUT'],
    ] as const;
    for (const [error, name, code] of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error.cause).toBe(cause);
      expect(String(error)).toMatch(new RegExp(`^${name}: `));
    }
  });

  it('an option error is an InvalidOptionError of @quiesce/core with its own name and code', () => {
    const error = new HooksOptionError('timeoutMs', -1, 'a finite number of milliseconds ≥ 0');

    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ option: 'timeoutMs', value: -1, expected: 'a finite number of milliseconds ≥ 0' });
  });

  it('describe odd option values without throwing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const shown = (value: unknown): string => new HooksOptionError('x', value, 'something').message;

    expect(shown(Number.NaN)).toBe('Invalid x: NaN. Expected something.');
    expect(shown(undefined)).toBe('Invalid x: undefined. Expected something.');
    expect(shown(10n)).toBe('Invalid x: 10n. Expected something.');
    expect(shown(function close() {})).toBe('Invalid x: function close. Expected something.');
    expect(shown(Symbol('s'))).toBe('Invalid x: Symbol(s). Expected something.');
    expect(shown(cyclic)).toBe('Invalid x: [object Object]. Expected something.');
  });

  it('tell the user what to do', () => {
    expect(new HookTimeoutError('db', 100).message).toMatch(/AbortSignal|timeoutMs/);
  });
});
