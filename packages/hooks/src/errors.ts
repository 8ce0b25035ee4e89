import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';

/**
 * A public option was given a value it cannot take. The message names the option and the value;
 * `option`, `value` and `expected` carry them for code. Extends `InvalidOptionError` from
 * `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { hooks.add('db', close, { timeoutMs: -1 }); }
 * catch (e) { if (e instanceof HooksOptionError) console.error(e.option, e.code); }
 * ```
 */
export class HooksOptionError extends InvalidOptionError {
  override readonly name: string = 'HooksOptionError';
  override readonly code: 'QUIESCE_HOOKS_INVALID_OPTION' = 'QUIESCE_HOOKS_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link HooksOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(HooksOptionError);

/**
 * Hooks were changed after the run started; register every hook before shutdown begins.
 *
 * @example
 * ```ts
 * void hooks.run();
 * hooks.add('late', () => {}); // throws HooksStateError
 * ```
 */
export class HooksStateError extends Error {
  override readonly name: string = 'HooksStateError';
  readonly code: 'QUIESCE_HOOKS_ALREADY_RUNNING' = 'QUIESCE_HOOKS_ALREADY_RUNNING';
}

/**
 * A hook did not settle within its own `timeoutMs`; it was abandoned and its signal aborted.
 *
 * @example
 * ```ts
 * if (result.error instanceof HookTimeoutError) console.warn(result.error.timeoutMs);
 * ```
 */
export class HookTimeoutError extends Error {
  override readonly name: string = 'HookTimeoutError';
  readonly code: 'QUIESCE_HOOK_TIMEOUT' = 'QUIESCE_HOOK_TIMEOUT';
  readonly hook: string;
  readonly timeoutMs: number;

  constructor(hook: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(
      `Hook "${hook}" did not finish within its timeout of ${timeoutMs} ms and was abandoned; make it honour its AbortSignal or raise its timeoutMs.`,
      options,
    );
    this.hook = hook;
    this.timeoutMs = timeoutMs;
  }
}
