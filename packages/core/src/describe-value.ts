import { redactSecrets } from './redact-secrets.ts';

/**
 * Describes a value for an error message, in a few characters and without ever throwing: strings
 * quoted, numbers as written (`NaN`, `Infinity`, not `null`), `function close`, `10n`, `/ready/`, `a Promise`,
 * `a Map instance` for objects of a class, JSON for plain data, `String(value)` for what JSON
 * cannot show (cycles, symbols, `undefined`). Secrets in it (URL credentials, tokens, passwords) are
 * redacted with {@link redactSecrets}.
 *
 * @example
 * ```ts
 * describeValue('3000'); // '"3000"'
 * describeValue(Number.NaN); // 'NaN'
 * describeValue(new Map()); // 'a Map instance'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(redactSecrets(value));
  // JSON.stringify would print NaN and Infinity as "null".
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof RegExp) return String(value);
  if (value !== null && typeof value === 'object') {
    // A promise passed where a value was expected is a common mistake (a missing `await`).
    if (typeof (value as { then?: unknown }).then === 'function') return 'a Promise';
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    if (name && name !== 'Object' && name !== 'Array') return `a ${name} instance`;
  }
  try {
    return redactSecrets(JSON.stringify(value) ?? String(value));
  } catch {
    return redactSecrets(plain(value));
  }
}

/** `String(value)`, or `[object Object]` for an object that cannot be turned into a string. */
function plain(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
