/**
 * @module
 * Quiesce: stop, restart and move an HTTP service without losing a request. `createLifecycle` runs
 * the whole shutdown sequence (lame duck, deregistration, stop accepting, drain with hooks, deadline,
 * cleanup, exit code). The small packages it is made of are re-exported here whole (`@quiesce/core`,
 * `@quiesce/drain`, `@quiesce/hooks`, `@quiesce/registry`, `@quiesce/signals`), so one dependency is
 * enough. Runtime adapters live in subpaths: `quiesce/node`, `quiesce/bun`, `quiesce/deno`; sockets
 * that survive restarts in `quiesce/listener`; `ManualClock` for tests in `quiesce/testing`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createLifecycle } from 'quiesce';
 * import { createNodeAdapter } from 'quiesce/node';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * const lifecycle = createLifecycle({ adapter: createNodeAdapter(server), lameDuckMs: 5_000 });
 * server.listen(3000, '127.0.0.1', () => lifecycle.install());
 * ```
 */
export { LifecycleOptionError } from './errors.ts';
export {
  type DeregistrableRegistry,
  type Lifecycle,
  type LifecycleOptions,
  type LifecycleState,
  type RegistryCallResult,
  createLifecycle,
} from './lifecycle.ts';
export {
  type ShutdownOutcome,
  type ShutdownPhase,
  type ShutdownPhaseName,
  type ShutdownReport,
  formatShutdownReport,
} from './shutdown-report.ts';
export {
  type ShutdownReportJson,
  type ShutdownReportJsonFailure,
  type ShutdownReportJsonOptions,
  formatShutdownReportJson,
  shutdownReportJson,
} from './shutdown-report-json.ts';
// Every export of each package below, by name; exports.test.ts fails when one is missing.
export {
  type ChannelListener,
  type Clock,
  type ConnectionClosedMessage,
  type ConnectionCloseHow,
  Deadline,
  DeadlineExceededError,
  type DeadlineOptions,
  type DrainEndMessage,
  type DrainProgressMessage,
  type EventChannel,
  type GenerationExitedMessage,
  type GenerationFailedMessage,
  type GenerationMessage,
  type GenerationReadyMessage,
  type GenerationRetiredMessage,
  type GenerationSpawnedMessage,
  type HookEndMessage,
  type HookRunMessage,
  type HookTotalsMessage,
  InvalidOptionError,
  type LogOption,
  type OptionChecks,
  type OptionErrorClass,
  describeValue,
  envReadPermitted,
  eventChannel,
  optionChecks,
  type PermissionDescriptor,
  type QuiesceChannels,
  quiesceChannels,
  redactSecrets,
  redactValue,
  type RegistryCallMessage,
  type RestartEndMessage,
  type RestartMode,
  runtimePermits,
  type ShutdownEndMessage,
  type ShutdownPhaseEndMessage,
  type ShutdownPhaseStartMessage,
  type ShutdownStartMessage,
  type TimerHandle,
  systemClock,
} from '@quiesce/core';
export {
  type ConnectionHandle,
  ConnectionTracker,
  type ConnectionTrackerOptions,
  DrainOptionError,
  type DrainOptions,
  type DrainReport,
  type DrainState,
  type HoldResult,
  ResponseGate,
  type ServerAdapter,
  type SocketCloser,
  type StopAcceptingOptions,
  type TrackedConnection,
  type TrackedRequest,
  type TrackerStats,
  lameDuck,
  withConnectionClose,
} from '@quiesce/drain';
// Clock, systemClock, Deadline and DeadlineExceededError: the same objects, exported above from @quiesce/core.
export {
  type AddHookOptions,
  type HookEndEvent,
  type HookFunction,
  type HookResult,
  type HookStartEvent,
  type HookStatus,
  HookTimeoutError,
  type HookTotals,
  type HooksEvent,
  type HooksListener,
  HooksOptionError,
  type HooksReport,
  HooksStateError,
  type PhaseEndEvent,
  type PhaseResult,
  type PhaseStartEvent,
  type RunEndEvent,
  type RunHooksOptions,
  type ShutdownHooks,
  type ShutdownHooksOptions,
  createShutdownHooks,
} from '@quiesce/hooks';
export {
  type ConsulRegistryOptions,
  type EtcdRegistryOptions,
  type FetchFunction,
  type RegistryCallOptions,
  RegistryEnvError,
  type RegistryFromEnvOptions,
  type RegistryOperation,
  RegistryOptionError,
  type RegistryOptions,
  type RegistryOutcome,
  RegistryRequestError,
  type RegistryResult,
  type RegistryState,
  RegistryStateError,
  RegistryTimeoutError,
  RegistryUnavailableError,
  type ServiceInstance,
  type ServiceRegistry,
  createConsulRegistry,
  createEtcdRegistry,
  registryFromEnv,
} from '@quiesce/registry';
export {
  type ExitCodes,
  type GracefulContext,
  type GracefulHandler,
  type GracefulOutcome,
  type ImmediateContext,
  ImmediateStopError,
  type Intent,
  type PolicyState,
  type RestartContext,
  type SignalIntents,
  type SignalName,
  type SignalPlatform,
  type SignalPolicy,
  type SignalPolicyOptions,
  type SignalWaiter,
  type SignalsErrorSource,
  SignalsHandlerError,
  SignalsOptionError,
  SignalsRuntimeError,
  type StopKind,
  type StopOutcome,
  type StopResult,
  type WaiterContext,
  createSignalPolicy,
  defaultExitCodes,
  defaultSignalIntents,
  exitCodeFor,
  isSignalName,
  signalNumber,
} from '@quiesce/signals';
