// Option checks shared by the harnesses: each throws HarnessOptionError naming the option and the value.
import { HarnessOptionError, check } from './errors.ts';

/** Throws unless `value` is a TCP port, 1–65535. */
export function checkPort(option: string, value: unknown): number {
  check.integer(option, value, { min: 1, max: 65_535 }, 'an integer TCP port from 1 to 65535');
  return value;
}

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(option: string, value: unknown, min: number): number {
  check.integer(option, value, { min, max: Number.MAX_SAFE_INTEGER }, `an integer ≥ ${min}`);
  return value;
}

/** Throws unless `value` is a finite number of milliseconds > 0. */
export function checkDuration(option: string, value: unknown): number {
  check.positiveDuration(option, value);
  return value;
}

/** Throws unless `value` is a non-empty string. */
export function checkString(option: string, value: unknown): string {
  check.string(option, value);
  return value;
}

/** Throws unless `value` is a plain object whose values are all strings. */
export function checkEnv(option: string, value: unknown): Record<string, string> {
  check.object(option, value, 'an object of string values');
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw new HarnessOptionError(`${option}.${key}`, entry, 'a string');
  }
  return value as Record<string, string>;
}

/** Throws unless `value` is an array of strings. */
export function checkArgs(option: string, value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) {
    throw new HarnessOptionError(option, value, 'an array of strings');
  }
  return value;
}
