import type { Clock } from '../clock.ts';
import { HooksOptionError } from '../errors.ts';

/** Throws {@link HooksOptionError} unless `value` is a finite number of milliseconds ≥ 0. */
export function assertDuration(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new HooksOptionError(option, value, 'a finite number of milliseconds ≥ 0');
  }
}

/** Throws {@link HooksOptionError} unless `value` is an object. */
export function assertOptionsObject(option: string, value: unknown): void {
  if (value === null || typeof value !== 'object') throw new HooksOptionError(option, value, 'an object');
}

/** Throws {@link HooksOptionError} unless `value` has the three {@link Clock} methods. */
export function assertClock(value: unknown): asserts value is Clock {
  const c = value as Partial<Clock> | null;
  if (!c || typeof c.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.clearTimeout !== 'function') {
    throw new HooksOptionError('clock', value, 'an object with now(), setTimeout() and clearTimeout()');
  }
}

/** Throws {@link HooksOptionError} unless `value` is an `AbortSignal`. */
export function assertSignal(value: unknown): asserts value is AbortSignal {
  if (!(value instanceof AbortSignal)) throw new HooksOptionError('signal', value, 'an AbortSignal');
}
