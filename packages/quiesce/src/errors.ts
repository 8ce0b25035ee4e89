import { describeValue } from '@quiesce/drain';

/**
 * A lifecycle option was given a value it cannot take; the message names the option and the value.
 *
 * @example
 * ```ts
 * try { createLifecycle({ adapter, deadlineMs: -5 }); }
 * catch (e) { if (e instanceof LifecycleOptionError) console.error(e.option); } // "deadlineMs"
 * ```
 */
export class LifecycleOptionError extends TypeError {
  override readonly name: string = 'LifecycleOptionError';
  readonly code: 'QUIESCE_INVALID_OPTION' = 'QUIESCE_INVALID_OPTION';
  readonly option: string;
  readonly value: unknown;
  /** What would have been accepted. */
  readonly expected: string;

  constructor(option: string, value: unknown, expected: string, options?: { cause?: unknown }) {
    super(`Invalid ${option}: ${describeValue(value)}. Expected ${expected}.`, options);
    this.option = option;
    this.value = value;
    this.expected = expected;
  }
}
