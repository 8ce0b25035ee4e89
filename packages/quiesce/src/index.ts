/**
 * @module
 * Quiesce: stop, restart and move an HTTP service without losing a request. `createLifecycle` runs
 * the whole shutdown sequence (lame duck, deregistration, stop accepting, drain with hooks, deadline,
 * cleanup, exit code); the small packages it is made of are re-exported here. Runtime adapters live
 * in subpaths: `quiesce/node` (and, as they arrive, `quiesce/bun`, `quiesce/deno`); `ManualClock`
 * for tests in `quiesce/testing`.
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
  type ConnectionHandle,
  ConnectionTracker,
  type ConnectionTrackerOptions,
  type DrainReport,
  type DrainState,
  type ServerAdapter,
  type TrackedConnection,
  type TrackedRequest,
  type TrackerStats,
  lameDuck,
} from '@quiesce/drain';
export { type Clock, Deadline, DeadlineExceededError, InvalidOptionError, systemClock } from '@quiesce/core';
export {
  type HookFunction,
  type HookResult,
  type HookStatus,
  type HooksReport,
  createShutdownHooks,
} from '@quiesce/hooks';
export {
  type ConsulRegistryOptions,
  type EtcdRegistryOptions,
  RegistryEnvError,
  RegistryOptionError,
  type RegistryResult,
  type ServiceInstance,
  type ServiceRegistry,
  createConsulRegistry,
  createEtcdRegistry,
  registryFromEnv,
} from '@quiesce/registry';
export {
  type ExitCodes,
  type Intent,
  type SignalName,
  type SignalPolicy,
  type SignalPolicyOptions,
  SignalsOptionError,
  createSignalPolicy,
  defaultExitCodes,
  exitCodeFor,
  signalNumber,
} from '@quiesce/signals';
