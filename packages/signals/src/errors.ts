import { InvalidOptionError, type OptionChecks, describeValue, optionChecks } from '@quiesce/core';

/**
 * A public option (or an argument of a policy method) was given a value it cannot take. The message
 * names the option and the value and says what is expected. Extends `InvalidOptionError` from
 * `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { createSignalPolicy({ graceful, signals: { SIGKILL: 'graceful' } }); }
 * catch (e) { if (e instanceof SignalsOptionError) console.error(e.option, e.value); } // "signals.SIGKILL"
 * ```
 */
export class SignalsOptionError extends InvalidOptionError {
  override readonly name: string = 'SignalsOptionError';
  override readonly code: 'QUIESCE_SIGNALS_INVALID_OPTION' = 'QUIESCE_SIGNALS_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link SignalsOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(SignalsOptionError);

/**
 * The runtime cannot do what `install()` needs: it has neither `Deno.addSignalListener` nor
 * `process.on`, or it refused to listen to a signal (the refusal is the `cause`). Nothing stays
 * installed when this is thrown.
 *
 * @example
 * ```ts
 * try { policy.install(); }
 * catch (e) { if (e instanceof SignalsRuntimeError) console.error(e.signal, e.cause); }
 * ```
 */
export class SignalsRuntimeError extends Error {
  override readonly name: string = 'SignalsRuntimeError';
  readonly code: 'QUIESCE_SIGNALS_UNSUPPORTED_RUNTIME' = 'QUIESCE_SIGNALS_UNSUPPORTED_RUNTIME';
  /** The signal the runtime refused, or `undefined` when no signal API was found at all. */
  readonly signal: string | undefined;

  constructor(message: string, signal?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.signal = signal;
  }
}

/**
 * A user callback returned a value the policy cannot use: a waiter that returned something other
 * than an intent, or a graceful handler that resolved to something other than an outcome. It is
 * passed to `onError`; the policy then falls back as documented (mapping / `failed`).
 *
 * @example
 * ```ts
 * createSignalPolicy({ graceful, onError: (e) => { if (e instanceof SignalsHandlerError) console.warn(e.handler); } });
 * ```
 */
export class SignalsHandlerError extends TypeError {
  override readonly name: string = 'SignalsHandlerError';
  readonly code: 'QUIESCE_SIGNALS_INVALID_HANDLER_RESULT' = 'QUIESCE_SIGNALS_INVALID_HANDLER_RESULT';
  /** Which callback misbehaved: `waiter` or `graceful`. */
  readonly handler: 'waiter' | 'graceful';
  /** What it returned. */
  readonly value: unknown;

  constructor(handler: 'waiter' | 'graceful', value: unknown, expected: string, fallback: string) {
    super(`The ${handler} handler returned ${describeValue(value)}; expected ${expected}. ${fallback}`);
    this.handler = handler;
    this.value = value;
  }
}

/**
 * The abort reason of the graceful handler's `abortSignal` when the stop escalated to immediate:
 * a second graceful signal, an `immediate` signal such as SIGQUIT, or `trigger('immediate')`. The
 * process is about to exit; stop work now.
 *
 * @example
 * ```ts
 * abortSignal.addEventListener('abort', () => {
 *   if (abortSignal.reason instanceof ImmediateStopError) console.warn('forced by', abortSignal.reason.signal);
 * });
 * ```
 */
export class ImmediateStopError extends Error {
  override readonly name: string = 'ImmediateStopError';
  readonly code: 'QUIESCE_SIGNALS_IMMEDIATE_STOP' = 'QUIESCE_SIGNALS_IMMEDIATE_STOP';
  /** The signal that forced the stop, or `undefined` for `trigger('immediate')`. */
  readonly signal: string | undefined;

  constructor(signal: string | undefined, options?: { cause?: unknown }) {
    super(
      signal === undefined
        ? 'An immediate stop was requested during graceful shutdown; stop work now, the process is exiting.'
        : `${signal} forced an immediate stop during graceful shutdown; stop work now, the process is exiting.`,
      options,
    );
    this.signal = signal;
  }
}
