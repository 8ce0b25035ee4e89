/**
 * @module
 * The one home of time and option errors for every Quiesce package: the injectable {@link Clock}
 * (and {@link systemClock}), {@link Deadline} (one point in time as an `AbortSignal`) with its
 * {@link DeadlineExceededError}, the option-error base {@link InvalidOptionError} that every
 * package's option error extends, and {@link optionChecks}, the one set of option checks each
 * package binds to its own error class, {@link redactSecrets} for every message that shows a
 * configured value, {@link runtimePermits} (Deno's permissions, asked without a prompt), and the
 * event catalog: {@link quiesceChannels}, the `diagnostics_channel` channels every package publishes
 * on, seen through {@link eventChannel} so that web-standard packages can publish without a `node:`
 * import. `ManualClock`, for tests without fake timers, is in `@quiesce/core/testing`. Web-standard
 * APIs only, no dependencies.
 *
 * @example
 * ```ts
 * import { Deadline, DeadlineExceededError, InvalidOptionError } from '@quiesce/core';
 *
 * const deadline = new Deadline({ timeoutMs: 50 });
 * deadline.signal.addEventListener('abort', () => {
 *   console.log(deadline.signal.reason instanceof DeadlineExceededError); // true, after 50 ms
 * });
 * try {
 *   new Deadline({ timeoutMs: -1 });
 * } catch (error) {
 *   if (error instanceof InvalidOptionError) console.log(error.option, error.code); // timeoutMs QUIESCE_INVALID_OPTION
 * }
 * ```
 */
export { type Clock, type TimerHandle, systemClock } from './clock.ts';
export { Deadline, type DeadlineOptions } from './deadline.ts';
export { type DescribeErrorOptions, describeError } from './describe-error.ts';
export { describeValue } from './describe-value.ts';
export { DeadlineExceededError, InvalidOptionError } from './errors.ts';
export { type ChannelListener, type EventChannel, eventChannel } from './event-channel.ts';
export { type LogOption, type OptionChecks, type OptionErrorClass, optionChecks } from './option-checks.ts';
export {
  type ConnectionClosedMessage,
  type ConnectionCloseHow,
  type DrainEndMessage,
  type DrainProgressMessage,
  type GenerationExitedMessage,
  type GenerationFailedMessage,
  type GenerationMessage,
  type GenerationReadyMessage,
  type GenerationRetiredMessage,
  type GenerationSpawnedMessage,
  type HookEndMessage,
  type HookRunMessage,
  type HookTotalsMessage,
  type QuiesceChannels,
  type RegistryCallMessage,
  type RestartEndMessage,
  type RestartMode,
  type ShutdownEndMessage,
  type ShutdownPhaseEndMessage,
  type ShutdownPhaseStartMessage,
  type ShutdownStartMessage,
  quiesceChannels,
} from './quiesce-channels.ts';
export { redactSecrets, redactValue } from './redact-secrets.ts';
export { type PermissionDescriptor, envReadPermitted, runtimePermits } from './runtime-permits.ts';
