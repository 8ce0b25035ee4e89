import { redactSecrets } from './redact-secrets.ts';

/** Options for {@link describeError}. */
export interface DescribeErrorOptions {
  /** The longest result, in characters; a longer one is cut and ends with `…`. Default 200. */
  readonly maxLength?: number;
  /**
   * `true`: the first line of the message alone (the name when there is no message), as a log line
   * quotes an error; default `false`: `Name: message`, every line of it.
   */
  readonly brief?: boolean;
}

/**
 * What `error` says, as one bounded line for a log line, a JSON report or a span attribute: an
 * `Error` as `Name: message` (or, `brief`, its message's first line), anything else as
 * `String(error)`, `undefined` as `unknown error`; whitespace and line breaks collapsed, secrets
 * redacted ({@link redactSecrets}: a message may quote a configured URL or token), cut to
 * `maxLength`. Never throws, whatever was thrown (`unprintable error` when it cannot be read).
 *
 * @example
 * ```ts
 * describeError(new Error('connect ECONNREFUSED 127.0.0.1:5432')); // 'Error: connect ECONNREFUSED 127.0.0.1:5432'
 * describeError(new Error('first\nsecond'), { brief: true }); // 'first'
 * describeError(new Error('x'.repeat(300)), { maxLength: 10 }); // 'Error: xx…'
 * ```
 */
export function describeError(error: unknown, options: DescribeErrorOptions = {}): string {
  const { maxLength = 200, brief = false } = options;
  let text: string;
  try {
    if (error instanceof Error) {
      const message = brief ? (String(error.message).split('\n', 1)[0] ?? '') : String(error.message);
      text = brief ? message.trim() || error.name : message.trim() ? `${error.name}: ${message}` : error.name;
    } else text = error === undefined ? 'unknown error' : String(error);
  } catch {
    text = 'unprintable error';
  }
  const line = redactSecrets(text.replace(/\s+/g, ' ').trim()) || 'no message';
  return line.length > maxLength ? `${line.slice(0, Math.max(0, maxLength - 1))}…` : line;
}
