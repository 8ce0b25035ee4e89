import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';

/**
 * An option of `@quiesce/express` (or the app / server given to it) cannot be used; the message
 * names the option and the value. Options passed through to the lifecycle, the drain and the Node
 * adapter are reported with this class too, the original error as `cause`.
 *
 * @example
 * ```ts
 * try { createExpressLifecycle(app, { lameDuckMs: -1 }); }
 * catch (e) { if (e instanceof ExpressOptionError) console.error(e.option, e.code); } // "lameDuckMs"
 * ```
 */
export class ExpressOptionError extends InvalidOptionError {
  override readonly name: string = 'ExpressOptionError';
  override readonly code: 'QUIESCE_EXPRESS_INVALID_OPTION' = 'QUIESCE_EXPRESS_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link ExpressOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(ExpressOptionError);

/**
 * `listen()` was called after shutdown began: a server created now would never be drained.
 *
 * @example
 * ```ts
 * void lifecycle.shutdown();
 * lifecycle.listen(3000); // throws ExpressStateError
 * ```
 */
export class ExpressStateError extends Error {
  override readonly name: string = 'ExpressStateError';
  readonly code: 'QUIESCE_EXPRESS_SHUTTING_DOWN' = 'QUIESCE_EXPRESS_SHUTTING_DOWN';
}
