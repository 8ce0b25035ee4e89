import type { SignalName } from './signal-names.ts';

/**
 * What a signal asks the process to do:
 * - `graceful`: run the graceful handler once, then exit with the exit-code policy's code;
 * - `immediate`: call the immediate handler (best effort, synchronous) and exit now with 128 + n;
 * - `restart`: call the restart handler; the process keeps running;
 * - `ignore`: listen to the signal and do nothing, so its default action (usually termination) does not happen.
 */
export type Intent = 'graceful' | 'immediate' | 'restart' | 'ignore';

/**
 * Signal → intent overrides, merged over {@link defaultSignalIntents}. `false` removes a signal
 * from the policy: it is not listened to, so the runtime's default action applies.
 */
export type SignalIntents = Partial<Record<SignalName, Intent | false>>;

/**
 * The default policy. SIGUSR2 is listened to only when a `restart` handler is registered; without
 * one it keeps the runtime's default action.
 *
 * | signal  | intent    |
 * |---------|-----------|
 * | SIGTERM | graceful  |
 * | SIGINT  | graceful  |
 * | SIGHUP  | graceful  |
 * | SIGUSR2 | restart   |
 * | SIGQUIT | immediate |
 *
 * @example
 * ```ts
 * console.log(defaultSignalIntents.SIGTERM); // "graceful"
 * ```
 */
export const defaultSignalIntents: Readonly<SignalIntents> = Object.freeze({
  SIGTERM: 'graceful',
  SIGINT: 'graceful',
  SIGHUP: 'graceful',
  SIGUSR2: 'restart',
  SIGQUIT: 'immediate',
});

const intents: readonly Intent[] = ['graceful', 'immediate', 'restart', 'ignore'];

/** Whether `value` is an {@link Intent}. */
export function isIntent(value: unknown): value is Intent {
  return typeof value === 'string' && (intents as readonly string[]).includes(value);
}
