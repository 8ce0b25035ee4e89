// Option checks shared by the harnesses: each throws HarnessOptionError naming the option and the value.
import { HarnessOptionError } from './errors.ts';

/** Throws unless `value` is a TCP port, 1–65535. */
export function checkPort(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new HarnessOptionError(option, value, 'an integer TCP port from 1 to 65535');
  }
  return value;
}

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new HarnessOptionError(option, value, `an integer ≥ ${min}`);
  }
  return value;
}

/** Throws unless `value` is a finite number of milliseconds > 0. */
export function checkDuration(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new HarnessOptionError(option, value, 'a finite number of milliseconds > 0');
  }
  return value;
}

/** Throws unless `value` is a non-empty string. */
export function checkString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new HarnessOptionError(option, value, 'a non-empty string');
  }
  return value;
}

/** Throws unless `value` is a plain object whose values are all strings. */
export function checkEnv(option: string, value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HarnessOptionError(option, value, 'an object of string values');
  }
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
