import type { OptionChecks } from '@quiesce/core';
import { check } from '../errors.ts';

// The shared checks of @quiesce/core under the names the listener's modules call them by, and the
// checks only the listener needs. Every one throws ListenerOptionError.

/** Throws unless `value` is a finite number of milliseconds ≥ 0. */
export const checkDuration: OptionChecks['duration'] = check.duration;
/** Throws unless `value` is a boolean. */
export const checkBoolean: OptionChecks['boolean'] = check.boolean;
/** Throws unless `value` is a non-empty string. */
export const checkString: OptionChecks['string'] = check.string;
/** Throws unless `value` is `false` or a function taking one line of text. */
export const checkLog: OptionChecks['log'] = check.log;

/** Throws unless `value` is a whole port number from `min` (0 = any free port) to 65535. */
export function checkPort(option: string, value: unknown, min = 0): asserts value is number {
  check.integer(option, value, { min, max: 65_535 }, `a whole port number from ${min} to 65535${min === 0 ? ' (0 = any free port)' : ''}`);
}

/** Throws unless `value` is an object of environment variables (string values). */
export function checkEnv(option: string, value: unknown): asserts value is Record<string, string | undefined> {
  check.object(option, value, 'an object of environment variables, e.g. process.env');
}

/** Throws unless `value` is a positive whole number (a pid). */
export function checkPid(option: string, value: unknown): asserts value is number {
  check.integer(option, value, { min: 1, max: Number.MAX_SAFE_INTEGER }, 'a process id (a whole number ≥ 1)');
}

/** Throws unless `value` is a Clock: `now()`, `setTimeout()` and `clearTimeout()`. */
export const checkClock: OptionChecks['clock'] = check.clock;
