import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';

/**
 * An option of `instrumentLifecycle` or `createQuiesceInstrumentation` was given a value it cannot
 * take. The message names the option and the value; `option`, `value` and `expected` carry them
 * for code. Extends `InvalidOptionError` from `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { instrumentLifecycle(lifecycle, { flushTimeoutMs: -1 }); }
 * catch (e) { if (e instanceof OpenTelemetryOptionError) console.error(e.option, e.code); } // flushTimeoutMs
 * ```
 */
export class OpenTelemetryOptionError extends InvalidOptionError {
  override readonly name: string = 'OpenTelemetryOptionError';
  override readonly code: 'QUIESCE_OTEL_INVALID_OPTION' = 'QUIESCE_OTEL_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link OpenTelemetryOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(OpenTelemetryOptionError);
