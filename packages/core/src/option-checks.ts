import type { Clock } from './clock.ts';
import { InvalidOptionError } from './errors.ts';

/**
 * The constructor of a package's option error, a subclass of {@link InvalidOptionError} such as
 * `HooksOptionError`: `new (option, value, expected, { cause })`.
 */
export type OptionErrorClass = new (option: string, value: unknown, expected: string, options?: { cause?: unknown }) => InvalidOptionError;

/** A log option: a function that takes one line of text, or `false` for silence. */
export type LogOption = ((line: string) => void) | false;

/**
 * The option checks every Quiesce package shares, each throwing the package's own option error
 * (see {@link optionChecks}). Every check names the option and the value it refused; `expected`
 * replaces the default wording where a package can say more (an example, the unit, what to pass
 * instead). `undefined` is refused like any other wrong value: check optional options only when set.
 */
export interface OptionChecks {
  /** Throws unless `value` is a finite number of milliseconds ≥ 0. */
  duration(option: string, value: unknown, expected?: string): asserts value is number;
  /** Throws unless `value` is a finite number of milliseconds > 0. */
  positiveDuration(option: string, value: unknown, expected?: string): asserts value is number;
  /** Throws unless `value` is `false` (off) or a finite number of milliseconds ≥ 0. */
  durationOrFalse(option: string, value: unknown, expected?: string): asserts value is number | false;
  /** Throws unless `value` is a whole number from `min` to `max` (both included). */
  integer(option: string, value: unknown, range: { min: number; max: number }, expected?: string): asserts value is number;
  /** Throws unless `value` is `true` or `false`. */
  boolean(option: string, value: unknown, expected?: string): asserts value is boolean;
  /** Throws unless `value` is a non-empty string. */
  string(option: string, value: unknown, expected?: string): asserts value is string;
  /** Throws unless `value` is a function. */
  function(option: string, value: unknown, expected?: string): asserts value is (...args: never[]) => unknown;
  /** Throws unless `value` is an object (not `null`, not an array, not a function). */
  object(option: string, value: unknown, expected?: string): asserts value is object;
  /** Throws unless `value` is an `AbortSignal`. */
  signal(option: string, value: unknown, expected?: string): asserts value is AbortSignal;
  /** Throws unless `value` is a {@link Clock}: an object with `now()`, `setTimeout()` and `clearTimeout()`. */
  clock(option: string, value: unknown, expected?: string): asserts value is Clock;
  /** Throws unless `value` is a {@link LogOption}: a function, or `false` for silence. */
  log(option: string, value: unknown, expected?: string): asserts value is LogOption;
  /**
   * Returns an option error thrown by a package underneath (any {@link InvalidOptionError}) as this
   * package's error, with the same option, value and expectation and the original as `cause`;
   * returns any other error unchanged. For wrappers: `catch (e) { throw check.adopt(e); }`.
   */
  adopt(error: unknown): unknown;
}

/**
 * The shared option checks, bound to a package's option error class: one set of checks for every
 * package instead of a copy in each, and every package still throws its own class with its own
 * stable `code`. Declare the result with its type (`const check: OptionChecks = …`) so that
 * TypeScript narrows the checked values.
 *
 * @example
 * ```ts
 * class PoolOptionError extends InvalidOptionError {
 *   override readonly code = 'POOL_INVALID_OPTION';
 * }
 * const check: OptionChecks = optionChecks(PoolOptionError);
 *
 * check.duration('idleMs', 250); // passes
 * check.duration('idleMs', -1); // throws PoolOptionError: Invalid idleMs: -1. Expected a finite number of milliseconds ≥ 0.
 * ```
 */
export function optionChecks(ErrorClass: OptionErrorClass): OptionChecks {
  const fail = (option: string, value: unknown, expected: string): never => {
    throw new ErrorClass(option, value, expected);
  };
  const isDuration = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  const isObject = (value: unknown): value is object => value !== null && typeof value === 'object' && !Array.isArray(value);
  return {
    duration(option, value, expected = 'a finite number of milliseconds ≥ 0') {
      if (!isDuration(value)) fail(option, value, expected);
    },
    positiveDuration(option, value, expected = 'a finite number of milliseconds > 0') {
      if (!isDuration(value) || value === 0) fail(option, value, expected);
    },
    durationOrFalse(option, value, expected = 'false or a finite number of milliseconds ≥ 0') {
      if (value !== false && !isDuration(value)) fail(option, value, expected);
    },
    integer(option, value, { min, max }, expected = `a whole number from ${min} to ${max}`) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(option, value, expected);
    },
    boolean(option, value, expected = 'true or false') {
      if (typeof value !== 'boolean') fail(option, value, expected);
    },
    string(option, value, expected = 'a non-empty string') {
      if (typeof value !== 'string' || value === '') fail(option, value, expected);
    },
    function(option, value, expected = 'a function') {
      if (typeof value !== 'function') fail(option, value, expected);
    },
    object(option, value, expected = 'an object') {
      if (!isObject(value)) fail(option, value, expected);
    },
    signal(option, value, expected = 'an AbortSignal') {
      if (!(value instanceof AbortSignal)) fail(option, value, expected);
    },
    clock(option, value, expected = 'an object with now(), setTimeout() and clearTimeout()') {
      const c = value as Partial<Clock> | null | undefined;
      if (!c || typeof c.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.clearTimeout !== 'function') {
        fail(option, value, expected);
      }
    },
    log(option, value, expected = 'a function that takes one line of text, or false for silence') {
      if (value !== false && typeof value !== 'function') fail(option, value, expected);
    },
    adopt(error) {
      const lower = error instanceof InvalidOptionError ? error : undefined;
      if (lower === undefined || error instanceof ErrorClass) return error;
      return new ErrorClass(lower.option, lower.value, lower.expected, { cause: lower });
    },
  };
}
