/**
 * @module
 * Turns OS signals into lifecycle intents on Node, Bun and Deno: SIGTERM, SIGINT and SIGHUP start a
 * graceful stop, a second one escalates to an immediate stop, SIGQUIT stops immediately, SIGUSR2
 * restarts (when you give a restart handler), and the process exits with a code that says how the
 * stop went (0 clean, 1 forced or failed, 128 + n for an immediate stop by signal n). Nothing is
 * listened to until `install()`, and `uninstall()` removes exactly what was added.
 *
 * @example
 * ```ts
 * import { createSignalPolicy } from '@quiesce/signals';
 *
 * const timer = setInterval(() => console.log('working'), 1_000);
 * const policy = createSignalPolicy({
 *   graceful: async ({ signal }) => {
 *     console.log(`${signal}: stopping`);
 *     clearInterval(timer);
 *   },
 * });
 * policy.install();
 * ```
 */
export {
  ImmediateStopError,
  SignalsHandlerError,
  SignalsOptionError,
  SignalsRuntimeError,
} from './errors.ts';
export {
  defaultExitCodes,
  type ExitCodes,
  exitCodeFor,
  type StopKind,
  type StopOutcome,
} from './exit-codes.ts';
export { defaultSignalIntents, type Intent, type SignalIntents } from './signal-intents.ts';
export { isSignalName, type SignalName, type SignalPlatform, signalNumber } from './signal-names.ts';
export {
  createSignalPolicy,
  type GracefulContext,
  type GracefulHandler,
  type GracefulOutcome,
  type ImmediateContext,
  type PolicyState,
  type RestartContext,
  type RestartOutcome,
  type SignalPolicy,
  type SignalPolicyOptions,
  type SignalWaiter,
  type SignalsErrorSource,
  type StopResult,
  type WaiterContext,
} from './signal-policy.ts';
