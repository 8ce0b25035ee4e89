import { type Clock, Deadline, quiesceChannels, systemClock } from '@quiesce/core';
import { HookTimeoutError, HooksOptionError, HooksStateError, check } from './errors.ts';
import type { HooksEvent, HooksListener } from './events.ts';
import type { HookResult, HookStatus, HooksReport, PhaseResult } from './report.ts';

/** `quiesce:hook:end`: each hook's result as it ends (the catalog's message is {@link HookResult}). */
const { hookEnd } = quiesceChannels;

/**
 * The work of one hook. It receives a signal that aborts at the hook's own timeout or the global
 * deadline, whichever comes first; stop promptly when it does. A hook that ignores the signal is
 * abandoned at that moment: its promise is no longer awaited.
 */
export type HookFunction = (signal: AbortSignal) => unknown;

/** Per-hook options for {@link ShutdownHooks.add}. */
export interface AddHookOptions {
  /** One of the phases given at creation; defaults to the first phase. */
  phase?: string;
  /** Abandon the hook after this many milliseconds (finite, ≥ 0). Default: only the global deadline. */
  timeoutMs?: number;
}

/** Options for {@link createShutdownHooks}. */
export interface ShutdownHooksOptions {
  /** Phase names in run order; hooks in one phase run concurrently. Default `['default']`. */
  phases?: readonly string[];
  /** Time source; inject a `ManualClock` in tests. Default {@link systemClock}. */
  clock?: Clock;
  /** Receives every event of the run (same as calling {@link ShutdownHooks.on}). */
  onEvent?: HooksListener;
}

/** Options for {@link ShutdownHooks.run}. */
export interface RunHooksOptions {
  /** Global deadline in milliseconds from the start of the run (finite, ≥ 0). Default: none. */
  deadlineMs?: number;
  /** An outer deadline, such as the shutdown sequence's; aborting it abandons the run. */
  signal?: AbortSignal;
}

/** A registry of shutdown hooks; see {@link createShutdownHooks}. */
export interface ShutdownHooks {
  /** Phase names in run order. */
  readonly phases: readonly string[];
  /** `idle` until {@link ShutdownHooks.run} is called, then `running`, then `done`. */
  readonly state: 'idle' | 'running' | 'done';
  /** Registers a hook. Throws {@link HooksOptionError} on bad input and {@link HooksStateError} once running. */
  add(name: string, run: HookFunction, options?: AddHookOptions): void;
  /** Removes a hook by name; returns whether it existed. Throws {@link HooksStateError} once running. */
  remove(name: string): boolean;
  /** Subscribes to run events; returns the unsubscribe function. */
  on(listener: HooksListener): () => void;
  /**
   * Runs every phase in order. Idempotent: later calls return the first call's promise (their options
   * are ignored). The promise never rejects; bad options throw {@link HooksOptionError} synchronously
   * and leave the hooks idle, so the call can be corrected and retried.
   */
  run(options?: RunHooksOptions): Promise<HooksReport>;
}

interface RegisteredHook {
  readonly name: string;
  readonly phase: string;
  readonly timeoutMs: number | undefined;
  readonly run: HookFunction;
}

/**
 * Creates a set of shutdown hooks grouped in ordered phases: the phases run one after another, the
 * hooks of one phase run concurrently (as Hertz runs `OnShutdown`), and everything is bounded by one
 * global deadline. A hook that throws is recorded and the others still run; a hook that never
 * settles is abandoned at its timeout and never holds the run past the deadline. Phases not reached
 * before the deadline report their hooks as `aborted`.
 *
 * @example
 * ```ts
 * const hooks = createShutdownHooks({ phases: ['drain', 'close'] });
 * hooks.add('flush-queue', (signal) => queue.flush({ signal }), { phase: 'drain', timeoutMs: 2_000 });
 * hooks.add('close-db', () => pool.end(), { phase: 'close' });
 * const report = await hooks.run({ deadlineMs: 10_000 });
 * console.log(report.ok, report.totals);
 * ```
 */
export function createShutdownHooks(options: ShutdownHooksOptions = {}): ShutdownHooks {
  check.object('options', options);
  const { phases = ['default'], clock = systemClock, onEvent } = options;
  validatePhases(phases);
  check.clock('clock', clock);
  if (onEvent !== undefined) check.function('onEvent', onEvent);

  const order: readonly string[] = Object.freeze([...phases]);
  const hooks = new Map<string, RegisteredHook>();
  const listeners = new Set<HooksListener>(onEvent ? [onEvent] : []);
  let state: ShutdownHooks['state'] = 'idle';
  let running: Promise<HooksReport> | undefined;

  const emit = (event: HooksEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A broken logger must not change the outcome of shutdown.
      }
    }
  };

  const assertIdle = (action: string, name: unknown): void => {
    if (state !== 'idle') {
      const hook = typeof name === 'string' ? ` ${JSON.stringify(name)}` : '';
      throw new HooksStateError(
        `Cannot ${action} hook${hook} after the shutdown hooks started running; register every hook before calling run().`,
      );
    }
  };

  return {
    phases: order,
    get state() {
      return state;
    },
    add(name: string, run: HookFunction, hookOptions: AddHookOptions = {}): void {
      assertIdle('add', name);
      check.string('name', name);
      if (hooks.has(name)) throw new HooksOptionError('name', name, 'a name not used by another hook');
      check.function('run', run);
      check.object('options', hookOptions);
      const { phase = order[0]!, timeoutMs } = hookOptions;
      if (!order.includes(phase)) {
        throw new HooksOptionError('phase', phase, `one of the phases ${JSON.stringify(order)}`);
      }
      if (timeoutMs !== undefined) check.duration('timeoutMs', timeoutMs);
      hooks.set(name, { name, phase, timeoutMs, run });
    },
    remove(name: string): boolean {
      assertIdle('remove', name);
      return hooks.delete(name);
    },
    on(listener: HooksListener): () => void {
      check.function('listener', listener);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    run(runOptions: RunHooksOptions = {}): Promise<HooksReport> {
      if (running) return running;
      // Validate before changing state so that a bad call can be corrected and retried.
      check.object('options', runOptions);
      const { deadlineMs, signal } = runOptions;
      if (deadlineMs !== undefined) check.duration('deadlineMs', deadlineMs);
      // Checked here, not only by Deadline, so that a bad signal is reported as a HooksOptionError.
      if (signal !== undefined) check.signal('signal', signal);
      // With no hook, nothing can outlive the run (it takes no timer turn): it needs no deadline of
      // its own, only whether the outer signal has aborted (no timer, no listener on `signal`).
      const deadline: RunBound = hooks.size === 0 ? outerBound(signal) : new Deadline({ timeoutMs: deadlineMs, signal, clock });
      // Publish the promise before any hook or listener runs: one that calls run() again
      // synchronously must get this run, not start a second one.
      let settle!: { resolve: (report: HooksReport) => void; reject: (error: unknown) => void };
      running = new Promise<HooksReport>((resolve, reject) => {
        settle = { resolve, reject };
      });
      state = 'running';
      runPhases([...hooks.values()], order, deadline, clock, emit).then((report) => {
        state = 'done';
        emit({ type: 'run-end', at: clock.now(), report });
        settle.resolve(report);
      }, settle.reject);
      return running;
    },
  };
}

/** What bounds a run: a {@link Deadline}, or for a run without hooks only the outer signal. */
interface RunBound {
  readonly expired: boolean;
  readonly signal: AbortSignal;
  dispose(): void;
}

/** The bound of a run without hooks: expired once `signal` has aborted; nothing to dispose. */
function outerBound(signal: AbortSignal | undefined): RunBound {
  return {
    get expired() {
      return signal?.aborted === true;
    },
    // Read only for a hook, and this run has none.
    get signal(): AbortSignal {
      return signal ?? new AbortController().signal;
    },
    dispose() {},
  };
}

async function runPhases(
  all: readonly RegisteredHook[],
  order: readonly string[],
  deadline: RunBound,
  clock: Clock,
  emit: (event: HooksEvent) => void,
): Promise<HooksReport> {
  const startedAt = clock.now();
  const phases: PhaseResult[] = [];
  const results: HookResult[] = [];
  try {
    for (const phase of order) {
      const members = all.filter((hook) => hook.phase === phase);
      if (deadline.expired) {
        phases.push({ name: phase, startedAt: undefined, durationMs: 0, hooks: members.length });
        for (const hook of members) {
          const result: HookResult = { name: hook.name, phase, status: 'aborted', startedAt: undefined, durationMs: 0, error: deadline.signal.reason };
          results.push(result);
          // Never started, but ended all the same: a subscriber counts every hook of the run.
          if (hookEnd.hasSubscribers) hookEnd.publish(result);
        }
        continue;
      }
      const phaseStart = clock.now();
      emit({ type: 'phase-start', phase, at: phaseStart });
      results.push(...(await Promise.all(members.map((hook) => runHook(hook, deadline.signal, clock, emit)))));
      const result: PhaseResult = { name: phase, startedAt: phaseStart, durationMs: clock.now() - phaseStart, hooks: members.length };
      phases.push(result);
      emit({ type: 'phase-end', phase, at: clock.now(), result });
    }
  } finally {
    deadline.dispose();
  }
  const count = (status: HookStatus): number => results.filter((r) => r.status === status).length;
  const totals = { total: results.length, ok: count('ok'), error: count('error'), timeout: count('timeout'), aborted: count('aborted') };
  return {
    startedAt,
    durationMs: clock.now() - startedAt,
    deadlineHit: deadline.expired,
    ok: totals.ok === totals.total,
    phases,
    hooks: results,
    totals,
  };
}

function runHook(
  hook: RegisteredHook,
  deadline: AbortSignal,
  clock: Clock,
  emit: (event: HooksEvent) => void,
): Promise<HookResult> {
  const { name, phase, timeoutMs } = hook;
  const controller = new AbortController();
  const startedAt = clock.now();
  emit({ type: 'hook-start', hook: name, phase, at: startedAt });

  return new Promise<HookResult>((resolve) => {
    let timer: unknown;
    let settled = false;
    const finish = (status: HookStatus, error?: unknown): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      deadline.removeEventListener('abort', onDeadline);
      if (status === 'timeout' || status === 'aborted') controller.abort(error);
      const result: HookResult = { name, phase, status, startedAt, durationMs: clock.now() - startedAt, error };
      emit({ type: 'hook-end', hook: name, phase, at: clock.now(), result });
      if (hookEnd.hasSubscribers) hookEnd.publish(result);
      resolve(result);
    };
    const onDeadline = (): void => finish('aborted', deadline.reason);

    if (deadline.aborted) {
      finish('aborted', deadline.reason);
      return;
    }
    deadline.addEventListener('abort', onDeadline, { once: true });
    if (timeoutMs !== undefined) {
      timer = clock.setTimeout(() => finish('timeout', new HookTimeoutError(name, timeoutMs)), timeoutMs);
    }
    try {
      // Called as a plain function so that the registry's internals never leak in as `this`.
      const { run } = hook;
      Promise.resolve(run(controller.signal)).then(
        () => finish('ok'),
        (error: unknown) => finish('error', error),
      );
    } catch (error) {
      finish('error', error);
    }
  });
}

function validatePhases(phases: unknown): void {
  if (!Array.isArray(phases) || phases.length === 0) {
    throw new HooksOptionError('phases', phases, 'a non-empty array of phase names');
  }
  const seen = new Set<string>();
  for (const phase of phases) {
    if (typeof phase !== 'string' || phase.length === 0) {
      throw new HooksOptionError('phases', phases, 'non-empty strings only');
    }
    if (seen.has(phase)) throw new HooksOptionError('phases', phases, `unique names; "${phase}" appears twice`);
    seen.add(phase);
  }
}
