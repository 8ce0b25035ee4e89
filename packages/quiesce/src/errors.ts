import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';

/**
 * A lifecycle option was given a value it cannot take; the message names the option and the value.
 * Extends `InvalidOptionError` from `@quiesce/core` (and keeps its code, `QUIESCE_INVALID_OPTION`).
 *
 * @example
 * ```ts
 * try { createLifecycle({ adapter, deadlineMs: -5 }); }
 * catch (e) { if (e instanceof LifecycleOptionError) console.error(e.option); } // "deadlineMs"
 * ```
 */
export class LifecycleOptionError extends InvalidOptionError {
  override readonly name: string = 'LifecycleOptionError';
  override readonly code: 'QUIESCE_INVALID_OPTION' = 'QUIESCE_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link LifecycleOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(LifecycleOptionError);
