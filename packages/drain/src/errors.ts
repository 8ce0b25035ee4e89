import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';

/**
 * A drain option or an adapter argument was given a value it cannot take. The message names the
 * option and the value; `option`, `value` and `expected` carry them for code. Extends
 * `InvalidOptionError` from `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { new ConnectionTracker({ idleGraceMs: -1 }); }
 * catch (e) { if (e instanceof DrainOptionError) console.error(e.option); } // "idleGraceMs"
 * ```
 */
export class DrainOptionError extends InvalidOptionError {
  override readonly name: string = 'DrainOptionError';
  override readonly code: 'QUIESCE_DRAIN_INVALID_OPTION' = 'QUIESCE_DRAIN_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link DrainOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(DrainOptionError);
