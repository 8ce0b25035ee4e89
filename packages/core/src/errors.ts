import { describeValue } from './describe-value.ts';
import { redactValue } from './redact-secrets.ts';

/**
 * The base of every Quiesce option error: a public option or argument was given a value it cannot
 * take. The message names the option and the value and says what was expected; `option`, `value`
 * and `expected` carry the same for code. Each package's subclass (`HooksOptionError`,
 * `DrainOptionError`, `NodeAdapterOptionError`, …) sets its own `name` and stable `code`, so one
 * `instanceof InvalidOptionError` catches a bad option from any package. Core's own checks
 * (`Deadline`, `ManualClock`) throw it with the code `QUIESCE_INVALID_OPTION`.
 *
 * @example
 * ```ts
 * try { new Deadline({ timeoutMs: -1 }); }
 * catch (e) { if (e instanceof InvalidOptionError) console.error(e.option, e.code); } // "timeoutMs"
 * ```
 */
export class InvalidOptionError extends TypeError {
  override readonly name: string = 'InvalidOptionError';
  readonly code: string = 'QUIESCE_INVALID_OPTION';
  /** The option's name, e.g. `deadlineMs` or `instance.port`. */
  readonly option: string;
  /** The value that was refused; in a string, secrets are redacted (`http://***@host`). */
  readonly value: unknown;
  /** What the option takes, in words (`a finite number of milliseconds ≥ 0`). */
  readonly expected: string;

  constructor(option: string, value: unknown, expected: string, options?: { cause?: unknown }) {
    super(`Invalid ${option}: ${describeValue(value)}. Expected ${expected}.`, options);
    this.option = option;
    this.value = redactValue(value);
    this.expected = expected;
  }
}

/**
 * A deadline passed: the abort reason of a {@link Deadline}'s signal when its time is up, and so of
 * every shutdown hook's signal and of the drain when the global shutdown deadline passes.
 *
 * @example
 * ```ts
 * signal.addEventListener('abort', () => {
 *   if (signal.reason instanceof DeadlineExceededError) console.warn('out of time');
 * });
 * ```
 */
export class DeadlineExceededError extends Error {
  override readonly name: string = 'DeadlineExceededError';
  readonly code: 'QUIESCE_DEADLINE_EXCEEDED' = 'QUIESCE_DEADLINE_EXCEEDED';
  /** The deadline's length in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(
      `The shutdown deadline of ${timeoutMs} ms passed; unfinished work was abandoned. Allow more time or make the slow work honour its AbortSignal.`,
      options,
    );
    this.timeoutMs = timeoutMs;
  }
}
