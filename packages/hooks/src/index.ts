/**
 * @module
 * Shutdown hooks in ordered phases under one deadline. Phases run in order, hooks inside a phase
 * run concurrently, every hook gets an `AbortSignal` for its own timeout and the global deadline,
 * and a failing hook is reported without stopping the others. Web-standard APIs only.
 *
 * @example
 * ```ts
 * import { createShutdownHooks } from '@quiesce/hooks';
 *
 * const hooks = createShutdownHooks({ phases: ['drain', 'close'] });
 * hooks.add('flush', (signal) => fetch('http://127.0.0.1:8125/flush', { method: 'POST', signal }), {
 *   phase: 'drain',
 *   timeoutMs: 2_000,
 * });
 * hooks.add('log', () => console.log('closing'), { phase: 'close' });
 * const report = await hooks.run({ deadlineMs: 10_000 });
 * console.log(report.ok ? 'clean' : report.totals);
 * ```
 */
// Time comes from @quiesce/core, its one home. Re-exported (the same objects, not copies) because
// hooks' own API speaks them: `clock` takes a Clock (systemClock by default), `run()` is bounded by
// a Deadline, and what the deadline cuts short carries DeadlineExceededError. ManualClock is not
// here: tests import it from @quiesce/core/testing, so it never lands in a production bundle.
export {
  type Clock,
  Deadline,
  DeadlineExceededError,
  type DeadlineOptions,
  type TimerHandle,
  systemClock,
} from '@quiesce/core';
export { HookTimeoutError, HooksOptionError, HooksStateError } from './errors.ts';
export type {
  HookEndEvent,
  HookStartEvent,
  HooksEvent,
  HooksListener,
  PhaseEndEvent,
  PhaseStartEvent,
  RunEndEvent,
} from './events.ts';
export type { HookResult, HookStatus, HookTotals, HooksReport, PhaseResult } from './report.ts';
export {
  type AddHookOptions,
  createShutdownHooks,
  type HookFunction,
  type RunHooksOptions,
  type ShutdownHooks,
  type ShutdownHooksOptions,
} from './shutdown-hooks.ts';
