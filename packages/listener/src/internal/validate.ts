import type { Clock } from '@quiesce/hooks';
import { ListenerOptionError } from '../errors.ts';

/** Throws unless `value` is a whole port number from `min` (0 = any free port) to 65535. */
export function checkPort(option: string, value: unknown, min = 0): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 65535) {
    throw new ListenerOptionError(option, value, `a whole port number from ${min} to 65535${min === 0 ? ' (0 = any free port)' : ''}`);
  }
}

/** Throws unless `value` is a finite number of milliseconds ≥ 0. */
export function checkDuration(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ListenerOptionError(option, value, 'a finite number of milliseconds ≥ 0');
  }
}

/** Throws unless `value` is a boolean. */
export function checkBoolean(option: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') throw new ListenerOptionError(option, value, 'true or false');
}

/** Throws unless `value` is a non-empty string. */
export function checkString(option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new ListenerOptionError(option, value, 'a non-empty string');
}

/** Throws unless `value` is `false` or a function taking one line of text. */
export function checkLog(option: string, value: unknown): asserts value is ((line: string) => void) | false {
  if (value !== false && typeof value !== 'function') {
    throw new ListenerOptionError(option, value, 'a function that takes one line of text, or false for silence');
  }
}

/** Throws unless `value` is an object of environment variables (string values). */
export function checkEnv(option: string, value: unknown): asserts value is Record<string, string | undefined> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ListenerOptionError(option, value, 'an object of environment variables, e.g. process.env');
  }
}

/** Throws unless `value` is a positive whole number (a pid). */
export function checkPid(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ListenerOptionError(option, value, 'a process id (a whole number ≥ 1)');
  }
}

/** Throws unless `value` is a {@link Clock}: `now()`, `setTimeout()` and `clearTimeout()`. */
export function checkClock(option: string, value: unknown): asserts value is Clock {
  const clock = value as Partial<Clock> | null;
  if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw new ListenerOptionError(option, value, 'a Clock (now, setTimeout, clearTimeout), e.g. systemClock or a ManualClock');
  }
}
