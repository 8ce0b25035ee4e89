import { ImmediateStopError, SignalsHandlerError, SignalsOptionError, SignalsRuntimeError } from './errors.ts';
import { type ExitCodes, exitCodeFor, type StopKind, type StopOutcome } from './exit-codes.ts';
import { detectRuntime } from './internal/detect-runtime.ts';
import { resolvePolicyOptions } from './internal/policy-options.ts';
import type { Runtime, UncaughtSource } from './internal/runtime.ts';
import { type Intent, isIntent, type SignalIntents } from './signal-intents.ts';
import type { SignalName, SignalPlatform } from './signal-names.ts';

/**
 * `running` until a stop starts; `stopping` while the graceful handler runs; `stopped` once the
 * exit code is decided (the process is exiting, or with `exit: false`, it is up to the caller).
 */
export type PolicyState = 'running' | 'stopping' | 'stopped';

/** What the graceful handler receives. */
export interface GracefulContext {
  /** The signal that started the stop; `undefined` for `trigger()` and for `catchErrors`. */
  readonly signal: SignalName | undefined;
  /** The `reason` given to `trigger()`, or the uncaught error under `catchErrors`; otherwise `undefined`. */
  readonly reason: unknown;
  /** Aborts with an {@link ImmediateStopError} when the stop escalates to immediate; stop work when it does. */
  readonly abortSignal: AbortSignal;
}

/** How the graceful work went; both default to `false`. Returning nothing means clean. */
export interface GracefulOutcome {
  /** The work was cut short, e.g. a shutdown deadline passed (`HooksReport.deadlineHit`). */
  readonly forced?: boolean;
  /** Some of the work failed (`!HooksReport.ok`). */
  readonly failed?: boolean;
  /**
   * The exit code the handler already decided (a lifecycle's shutdown report): the process exits
   * with it as it is, instead of the policy mapping `forced` / `failed` through `exitCodes` again.
   * An integer from 0 to 255; anything else counts as a bad outcome (failed).
   */
  readonly exitCode?: number;
}

/**
 * What a restart handler may resolve to once this process is done: `hotRestart()`'s result. With
 * `outcome: 'restarted'` (a new process serves, this one stopped) the policy exits with `exitCode`;
 * any other outcome (`rolled-back`, `delegated`) or value leaves the process running.
 */
export interface RestartOutcome {
  readonly outcome: 'restarted' | 'rolled-back' | 'delegated';
  /** This process's exit code after a restart: its shutdown report's. */
  readonly exitCode: number | undefined;
}

/** The app's graceful stop. A rejection or throw counts as `failed`. */
// biome-ignore lint/suspicious/noConfusingVoidType: `void` lets an async handler that returns nothing type-check.
export type GracefulHandler = (context: GracefulContext) => GracefulOutcome | void | Promise<GracefulOutcome | void>;

/** What the immediate handler receives. */
export interface ImmediateContext {
  /** The signal that forced the stop; `undefined` for `trigger('immediate')`. */
  readonly signal: SignalName | undefined;
  /** The `reason` given to `trigger('immediate')`; otherwise `undefined`. */
  readonly reason: unknown;
  /** The exit code the process is about to exit with. */
  readonly code: number;
}

/** What the restart handler receives. */
export interface RestartContext {
  /** The signal mapped (or waited) to `restart`, SIGUSR2 by default. */
  readonly signal: SignalName;
}

/** What a {@link SignalWaiter} receives besides the signal. */
export interface WaiterContext {
  /** The policy's state when the signal arrived: `running` or `stopping`. */
  /** See {@link PolicyState}. Once `stopped`, signals are ignored while the policy stays installed. */
  readonly state: PolicyState;
  /** The intent the mapping gives this signal, i.e. what happens if the waiter returns it. */
  readonly intent: Intent;
}

/**
 * Decides the intent of each listened signal (CloudWeGo Hertz's custom signal waiter). It is called
 * synchronously; it must return an {@link Intent} (`restart` only when a restart handler exists).
 * If it throws or returns anything else, the error goes to `onError` and the mapping's intent is used.
 * It is consulted only for signals the policy listens to: map a signal (e.g. `SIGUSR1: 'ignore'`) to
 * have it listened to.
 */
export type SignalWaiter = (signal: SignalName, context: WaiterContext) => Intent;

/** Which part of the policy an error passed to `onError` came from. */
export type SignalsErrorSource =
  | 'waiter'
  | 'graceful'
  | 'immediate'
  | 'restart'
  | 'exit'
  | 'uncaughtException'
  | 'unhandledRejection';

/** Options for {@link createSignalPolicy}. Every option is validated; bad input throws {@link SignalsOptionError}. */
export interface SignalPolicyOptions {
  /** The app's graceful stop; runs at most once. Required. */
  graceful: GracefulHandler;
  /** Last words before an immediate exit: synchronous, best effort (a returned promise is not awaited). */
  immediate?: (context: ImmediateContext) => void;
  /**
   * Registering it makes SIGUSR2 mean `restart`. While one restart is pending, further restart
   * signals are ignored. When it resolves to `{ outcome: 'restarted', exitCode }` ({@link RestartOutcome},
   * what `hotRestart()` returns), the stop is decided and the process exits with `exitCode`;
   * otherwise the process keeps running.
   */
  restart?: (context: RestartContext) => unknown;
  /** Signal → intent overrides merged over {@link defaultSignalIntents}; `false` leaves a signal to the runtime. */
  signals?: SignalIntents;
  /** Decides each signal's intent at the moment it arrives; see {@link SignalWaiter}. */
  waiter?: SignalWaiter;
  /** Exit codes merged over {@link defaultExitCodes}. */
  exitCodes?: Partial<ExitCodes>;
  /** How to exit once the code is decided. Default: `Deno.exit` or `process.exit`. `false`: never exit; read `done` or `exitCode`. */
  exit?: ((code: number) => void) | false;
  /** Route uncaught exceptions and unhandled rejections into a graceful stop with `exitCodes.error`. Default `false`. */
  catchErrors?: boolean;
  /** Receives errors from handlers, the waiter and exit, and (with `catchErrors`) the uncaught error. Default: `console.error`. */
  onError?: (error: unknown, source: SignalsErrorSource) => void;
}

/** The decided end of a stop; `done` resolves to it. */
export interface StopResult extends StopOutcome {
  /**
   * `graceful` when the graceful handler settled; `immediate` when the stop was forced; `restart`
   * when a restart handed over to a new process and this one stopped.
   */
  readonly intent: 'graceful' | 'immediate' | 'restart';
  /** The signal that started the graceful stop, forced the immediate one, or asked for the restart; `undefined` when programmatic or an uncaught error. */
  readonly signal: SignalName | undefined;
  /** How it ended; see {@link StopKind}. After a restart: `clean` when its exit code is 0, else `failed`. */
  readonly kind: StopKind;
  /** The exit code: the one the graceful handler or the restart decided, else the exit-code policy's. */
  readonly code: number;
}

/** A signal policy; see {@link createSignalPolicy}. */
export interface SignalPolicy {
  /** Starts listening. A second call while installed is a no-op. Throws {@link SignalsRuntimeError} (with nothing left installed) if the runtime cannot listen. */
  install(): void;
  /**
   * Removes exactly the listeners `install()` added (the app's own listeners stay), so each signal gets
   * back its previous disposition. A no-op when not installed. It does not cancel a stop in progress.
   */
  uninstall(): void;
  /** Whether the policy is listening. */
  readonly installed: boolean;
  /** The signals `install()` listens to, in order. */
  readonly signals: readonly SignalName[];
  /** See {@link PolicyState}. Once `stopped`, signals are ignored while the policy stays installed. */
  readonly state: PolicyState;
  /** The exit code once decided, otherwise `undefined`. */
  readonly exitCode: number | undefined;
  /** Resolves (never rejects) when the exit code is decided, just before exit is called. */
  readonly done: Promise<StopResult>;
  /**
   * Starts a stop without a signal. `graceful` runs the graceful handler if no stop has started and
   * is otherwise a no-op (it does not escalate, unlike a second signal); `immediate` forces the stop
   * with `exitCodes.forced`. Returns {@link SignalPolicy.done}. Works whether installed or not.
   */
  trigger(intent: 'graceful' | 'immediate', reason?: unknown): Promise<StopResult>;
}

/**
 * Creates a policy that turns OS signals into lifecycle intents on Node, Bun and Deno. Nothing is
 * listened to until {@link SignalPolicy.install}. By default SIGTERM, SIGINT and SIGHUP start a
 * graceful stop, SIGQUIT stops immediately, and SIGUSR2 restarts when a `restart` handler is given.
 * The graceful stop runs once; a second graceful signal while it runs escalates to an immediate
 * stop and aborts the handler's `abortSignal`. The process then exits with 0 after a clean graceful
 * stop, `exitCodes.forced` / `exitCodes.failed` when the handler reports it, `exitCodes.error` after
 * an uncaught error, and 128 + n after an immediate stop by signal n. Throws
 * {@link SignalsOptionError} on bad options.
 *
 * @example
 * ```ts
 * const policy = createSignalPolicy({
 *   graceful: async ({ signal, abortSignal }) => {
 *     console.log(`${signal}: draining`);
 *     await server.close({ signal: abortSignal });
 *   },
 * });
 * policy.install();
 * ```
 */
export function createSignalPolicy(options: SignalPolicyOptions): SignalPolicy {
  const config = resolvePolicyOptions(options);
  const signals: readonly SignalName[] = Object.freeze([...config.intents.keys()]);
  let runtime: Runtime | undefined;
  let removers: (() => void)[] | undefined;
  let state: PolicyState = 'running';
  let gracefulRun: AbortController | undefined;
  let restarting = false;
  let result: StopResult | undefined;
  let resolveDone: (result: StopResult) => void = () => {};
  const done = new Promise<StopResult>((resolve) => {
    resolveDone = resolve;
  });

  const report = (error: unknown, source: SignalsErrorSource): void => {
    try {
      config.onError(error, source);
    } catch {
      // A broken logger must not change the outcome of the stop.
    }
  };

  const platform = (): SignalPlatform => {
    try {
      runtime ??= detectRuntime();
      return runtime.platform;
    } catch {
      return 'linux';
    }
  };

  /** Fixes the result and the exit code (`decided`, else the exit-code policy's), and moves to `stopped`. */
  const settle = (intent: StopResult['intent'], signal: SignalName | undefined, kind: StopKind, decided?: number): StopResult => {
    const code = decided ?? exitCodeFor({ kind, signal }, config.exitCodes, platform());
    const settled: StopResult = Object.freeze({ intent, signal, kind, code });
    result = settled;
    state = 'stopped';
    resolveDone(settled);
    return settled;
  };

  const exitWith = (code: number): void => {
    if (config.exit === false) return;
    try {
      if (config.exit) config.exit(code);
      else {
        runtime ??= detectRuntime();
        runtime.exit(code);
      }
    } catch (error) {
      report(error, 'exit');
    }
  };

  const startGraceful = (signal: SignalName | undefined, reason: unknown, byError: boolean): void => {
    // The compare-and-set that makes the graceful stop happen once.
    if (state !== 'running') return;
    state = 'stopping';
    const controller = new AbortController();
    gracefulRun = controller;
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(config.graceful({ signal, reason, abortSignal: controller.signal }));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending
      .then(
        (value) => gracefulEnd(value, byError),
        (error: unknown) => {
          report(error, 'graceful');
          return { kind: 'failed' as const, code: undefined };
        },
      )
      .then(({ kind, code }) => {
        // An immediate stop may have decided the outcome while the handler was still running.
        if (state === 'stopping' && gracefulRun === controller) exitWith(settle('graceful', signal, kind, code).code);
      });
  };

  /** The stop's kind, and the exit code when the handler decided it. */
  const gracefulEnd = (value: unknown, byError: boolean): { kind: StopKind; code: number | undefined } => {
    const calm: StopKind = byError ? 'error' : 'clean';
    if (value === undefined) return { kind: calm, code: undefined };
    const outcome = value as GracefulOutcome;
    if (
      value !== null &&
      typeof value === 'object' &&
      (outcome.forced === undefined || typeof outcome.forced === 'boolean') &&
      (outcome.failed === undefined || typeof outcome.failed === 'boolean') &&
      (outcome.exitCode === undefined || isExitCode(outcome.exitCode))
    ) {
      return { kind: outcome.forced ? 'forced' : outcome.failed ? 'failed' : calm, code: outcome.exitCode };
    }
    report(
      new SignalsHandlerError(
        'graceful',
        value,
        'nothing or { forced?: boolean, failed?: boolean, exitCode?: an integer from 0 to 255 }',
        'The stop counts as failed.',
      ),
      'graceful',
    );
    return { kind: 'failed', code: undefined };
  };

  const stopNow = (signal: SignalName | undefined, reason: unknown): void => {
    if (state === 'stopped') return;
    const { code } = settle('immediate', signal, signal === undefined ? 'forced' : 'signal');
    if (gracefulRun && !gracefulRun.signal.aborted) {
      gracefulRun.abort(new ImmediateStopError(signal, reason === undefined ? undefined : { cause: reason }));
    }
    if (config.immediate) {
      try {
        config.immediate({ signal, reason, code });
      } catch (error) {
        report(error, 'immediate');
      }
    }
    exitWith(code);
  };

  const startRestart = (signal: SignalName): void => {
    const restart = config.restart;
    if (state !== 'running' || restarting || !restart) return;
    restarting = true;
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(restart({ signal }));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending
      .then(
        (value) => {
          // A new process serves and this one has stopped: exit with the code its shutdown decided.
          if (!isRestarted(value) || state === 'stopped') return;
          const code = value.exitCode;
          exitWith(settle('restart', signal, code === 0 ? 'clean' : 'failed', code).code);
        },
        (error: unknown) => report(error, 'restart'),
      )
      .finally(() => {
        restarting = false;
      });
  };

  const askWaiter = (signal: SignalName, mapped: Intent): Intent => {
    const waiter = config.waiter;
    if (!waiter) return mapped;
    let answer: unknown;
    try {
      answer = waiter(signal, { state, intent: mapped });
    } catch (error) {
      report(error, 'waiter');
      return mapped;
    }
    if (isIntent(answer) && (answer !== 'restart' || config.restart)) return answer;
    const expected = config.restart ? '"graceful", "immediate", "restart" or "ignore"' : '"graceful", "immediate" or "ignore" (no restart handler)';
    report(new SignalsHandlerError('waiter', answer, expected, `Used the mapping's "${mapped}" for ${signal}.`), 'waiter');
    return mapped;
  };

  const onSignal = (signal: SignalName): void => {
    if (state === 'stopped') return;
    const intent = askWaiter(signal, config.intents.get(signal) ?? 'ignore');
    if (intent === 'restart') startRestart(signal);
    else if (intent === 'immediate') stopNow(signal, undefined);
    else if (intent === 'graceful') {
      // A second graceful signal means "hurry": escalate instead of waiting for the first stop.
      if (state === 'stopping') stopNow(signal, undefined);
      else startGraceful(signal, undefined, false);
    }
  };

  const onUncaught = (error: unknown, source: UncaughtSource): void => {
    report(error, source);
    startGraceful(undefined, error, true);
  };

  return {
    install(): void {
      if (removers) return;
      runtime ??= detectRuntime();
      const rt = runtime;
      const added: (() => void)[] = [];
      let current: SignalName | undefined;
      try {
        for (const signal of signals) {
          current = signal;
          added.push(rt.listenSignal(signal, () => onSignal(signal)));
        }
        current = undefined;
        if (config.catchErrors) added.push(rt.listenUncaught(onUncaught));
      } catch (error) {
        for (const remove of added.reverse()) remove();
        throw new SignalsRuntimeError(
          current === undefined
            ? 'The runtime refused the uncaught-error listeners needed by catchErrors; nothing was installed. Leave catchErrors off on this runtime.'
            : `The runtime refused to listen to ${current}; nothing was installed. Map it to false with signals: { ${current}: false }.`,
          current,
          { cause: error },
        );
      }
      removers = added;
    },
    uninstall(): void {
      const added = removers;
      removers = undefined;
      if (added) for (const remove of added.reverse()) remove();
    },
    get installed(): boolean {
      return removers !== undefined;
    },
    signals,
    get state(): PolicyState {
      return state;
    },
    get exitCode(): number | undefined {
      return result?.code;
    },
    done,
    trigger(intent: 'graceful' | 'immediate', reason?: unknown): Promise<StopResult> {
      if (intent === 'graceful') startGraceful(undefined, reason, false);
      else if (intent === 'immediate') stopNow(undefined, reason);
      else {
        throw new SignalsOptionError('intent', intent, '"graceful" or "immediate" (to restart, call your restart function directly)');
      }
      return done;
    },
  };
}

function isExitCode(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255;
}

/** A restart handler's result that says this process is done: `{ outcome: 'restarted', exitCode }`. */
function isRestarted(value: unknown): value is RestartOutcome & { exitCode: number } {
  if (value === null || typeof value !== 'object') return false;
  const result = value as Partial<RestartOutcome>;
  return result.outcome === 'restarted' && isExitCode(result.exitCode);
}
