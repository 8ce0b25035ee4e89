import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Duplex, Readable } from 'node:stream';
import { type Clock, type RestartMode, type TimerHandle, quiesceChannels } from '@quiesce/core';
import { controlChannel } from './control-channel.ts';
import { LISTEN_FDS_START, LISTEN_VARIABLES } from './listen-env.ts';

/*
 * One generation of a service: a process started with the listening sockets as fd 3+ and a
 * readiness pipe, waited for, given time to settle beside the one it replaces, and retired. Both
 * `hotRestart()` (the old generation is this process) and `quiesce run` (every generation is a
 * child) replace one generation by the next with {@link handOver}, so the protocol lives here once.
 */

/** How a started process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Whether a generation reported readiness in time, and if not, why. */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** Options for {@link startGeneration}. */
export interface GenerationOptions {
  readonly command: readonly string[];
  readonly fds: readonly number[];
  readonly names: readonly string[];
  readonly env: Record<string, string | undefined>;
  /** Set after `env`; LISTEN_* and QUIESCE_READY_FD are set by the start itself. */
  readonly extraEnv?: Record<string, string>;
  /** Variables of `env` not to pass on (e.g. NOTIFY_SOCKET: the service manager talks to the main pid only). */
  readonly withoutEnv?: readonly string[];
  readonly cwd?: string;
  /** Own process group, so a terminal's Ctrl-C reaches only the starter, which forwards it once. */
  readonly detached?: boolean;
  /** Times the readiness wait and the SIGKILL after a retirement. */
  readonly clock: Clock;
  /** What starts it, for the `quiesce:generation:*` events: `hot-restart` or `supervisor` (`quiesce run`). */
  readonly mode: RestartMode;
  /** `quiesce run`'s number for it (from 1); `undefined` for a hot restart's successor. */
  readonly generation?: number;
}

/** A started generation. */
export interface Generation {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly mode: RestartMode;
  readonly generation: number | undefined;
  /** `starting` until ready; `serving`; `stopping` once retired; `exited` once reaped. */
  readonly state: 'starting' | 'serving' | 'stopping' | 'exited';
  /** Clock time of the start and of readiness. */
  readonly startedAt: number;
  readonly readyAt: number | undefined;
  /** Resolves when the process has exited and been reaped. */
  readonly exited: Promise<ChildExit>;
  /** The exit, once it happened. */
  readonly exit: ChildExit | undefined;
  /** The state it was in when it exited: `serving` means it exited on its own while serving. */
  readonly exitedWhile: 'starting' | 'serving' | 'stopping' | undefined;
  /**
   * Settles once, however often it is called (the first `timeoutMs` counts): ready when the process
   * wrote `READY=1` to its pipe, otherwise why not (it exited, the time ran out, it could not start).
   * A ready generation is `serving` from then on.
   */
  waitReady(timeoutMs: number): Promise<Readiness>;
  /** Sends `signal` now (ignored once exited). */
  signal(signal: NodeJS.Signals): void;
  /**
   * Retires it: `signal` (default SIGTERM) now, and SIGKILL if it still runs `killAfterMs` later.
   * With `request`, a generation that listens on its control channel (`CONTROL=1`) is asked to
   * stop with `STOP=<request>` instead of the signal. Once: a later call does nothing (`none`).
   * Returns how it was told: `asked`, `signalled` or `none`.
   */
  retire(killAfterMs: number, signal?: NodeJS.Signals, onKill?: () => void, request?: 'restart'): 'asked' | 'signalled' | 'none';
  /** Lets the starter exit while this process runs on (a hot restart's successor). */
  unref(): void;
}

/**
 * `sh` sets LISTEN_PID to its own pid and execs the command, so LISTEN_PID is the pid of the
 * program that reads it, as sd_listen_fds(3) requires; the sockets are fds 3+ and survive the exec.
 * A WATCHDOG_PID passed on names the new process likewise: it is the one that will ping (a hot
 * restart hands the service over to it with MAINPID=).
 */
const { generationSpawned, generationReady, generationFailed, generationRetired, generationExited } = quiesceChannels;

const LISTEN_PID_SCRIPT = 'LISTEN_PID=$$; export LISTEN_PID; if [ -n "$WATCHDOG_PID" ]; then WATCHDOG_PID=$$; export WATCHDOG_PID; fi; exec "$@"';

/** The exit code a shell reports for `exit`: the code, or 128 + the signal number. */
export function exitCodeOf(exit: ChildExit): number {
  if (exit.code !== null) return exit.code;
  const number = exit.signal ? (constants.signals as Record<string, number>)[exit.signal] : undefined;
  return 128 + (number ?? 0);
}

/** Describes an exit for a log line: `code 1`, `signal SIGKILL`. */
export function describeExit(exit: ChildExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/**
 * Spawns `command` with the sockets `fds` as fds 3, 4 … (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID),
 * the write end of a readiness pipe right after them (QUIESCE_READY_FD), then a control channel
 * (QUIESCE_CONTROL_FD: `listenForStopRequests`). stdin, stdout and stderr are inherited. Any
 * LISTEN_* left in `env` is replaced.
 */
export function startGeneration(options: GenerationOptions): Generation {
  const { command, fds, names, cwd, detached = false, clock, mode, generation } = options;
  const readyFd = LISTEN_FDS_START + fds.length;
  const controlFd = readyFd + 1;
  const skip = new Set([...LISTEN_VARIABLES, ...(options.withoutEnv ?? [])]);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) {
    if (value !== undefined && !skip.has(key)) env[key] = value;
  }
  Object.assign(env, options.extraEnv, {
    LISTEN_FDS: String(fds.length),
    LISTEN_FDNAMES: names.join(':'),
    QUIESCE_READY_FD: String(readyFd),
    QUIESCE_CONTROL_FD: String(controlFd),
  });
  const startedAt = clock.now();
  const child = spawn('/bin/sh', ['-c', LISTEN_PID_SCRIPT, 'quiesce', ...command], {
    stdio: ['inherit', 'inherit', 'inherit', ...fds, 'pipe', 'pipe'],
    env,
    cwd,
    detached,
  });
  const pid = child.pid ?? -1;
  // A spawn that failed has no process: it fails (see handOver), and never spawned nor exited.
  if (child.pid !== undefined && generationSpawned.hasSubscribers) generationSpawned.publish({ mode, generation, pid });
  let state: Generation['state'] = 'starting';
  let readyAt: number | undefined;
  let exit: ChildExit | undefined;
  let exitedWhile: Generation['exitedWhile'];
  let spawnError: Error | undefined;
  let killTimer: TimerHandle | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      if (state !== 'exited') exitedWhile = state;
      state = 'exited';
      if (killTimer !== undefined) clock.clearTimeout(killTimer);
      if (generationExited.hasSubscribers) generationExited.publish({ mode, generation, pid, exitCode: exitCodeOf(exit), while: exitedWhile ?? 'starting' });
      resolve(exit);
    });
    child.once('error', (error) => {
      // The spawn itself failed: there will be no 'exit'.
      spawnError = error;
      if (child.pid === undefined) {
        exit = { code: 127, signal: null };
        exitedWhile = 'starting';
        state = 'exited';
        resolve(exit);
      }
    });
  });
  const pipe = child.stdio[readyFd] as Readable | null;
  const control = controlChannel(child.stdio[controlFd] as Duplex | null);
  void exited.then(() => control.close());
  let settled: Promise<Readiness> | undefined;

  const waitReady = (timeoutMs: number): Promise<Readiness> => {
    settled ??= new Promise((resolve) => {
      let text = '';
      const finish = (result: Readiness): void => {
        clock.clearTimeout(timer);
        pipe?.off('data', onData);
        pipe?.destroy();
        if (result.ready && state === 'starting') {
          state = 'serving';
          readyAt = clock.now();
          if (generationReady.hasSubscribers) generationReady.publish({ mode, generation, pid, readyMs: readyAt - startedAt });
        }
        resolve(result);
      };
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        if (/(^|\n)READY=1(\n|$)/.test(text)) finish({ ready: true });
      };
      const timer = clock.setTimeout(() => finish({ ready: false, reason: `not ready within ${timeoutMs} ms` }), timeoutMs);
      pipe?.on('data', onData);
      pipe?.on('error', () => {});
      void exited.then((how) => {
        const why = spawnError ? `could not be started (${spawnError.message})` : `exited with ${describeExit(how)} before it was ready`;
        finish({ ready: false, reason: why });
      });
    });
    return settled;
  };

  const signal = (name: NodeJS.Signals): void => {
    if (state === 'exited') return;
    try {
      child.kill(name);
    } catch {
      // already gone
    }
  };

  return {
    child,
    pid,
    mode,
    generation,
    get state() {
      return state;
    },
    startedAt,
    get readyAt() {
      return readyAt;
    },
    exited,
    get exit() {
      return exit;
    },
    get exitedWhile() {
      return exitedWhile;
    },
    waitReady,
    signal,
    retire(killAfterMs, name = 'SIGTERM', onKill, request) {
      // Told once: a second signal asks an app for an immediate stop (128 + n), which would cut the
      // requests it is draining. Only signal() passes one on again (the supervisor's second stop).
      if (state === 'exited' || state === 'stopping') return 'none';
      state = 'stopping';
      // A roll asks a generation that listens on its control channel; anything else signals.
      const asked = request !== undefined && control.requestStop(request);
      if (generationRetired.hasSubscribers) generationRetired.publish({ mode, generation, pid, signal: asked ? `STOP=${request}` : name });
      if (!asked) signal(name);
      killTimer ??= clock.setTimeout(() => {
        if (state === 'exited') return;
        onKill?.();
        signal('SIGKILL');
      }, killAfterMs);
      return asked ? 'asked' : 'signalled';
    },
    unref() {
      // The successor of a hot restart: nobody here will ask it anything.
      control.close();
      child.unref();
    },
  };
}

/** Options for {@link handOver}. */
export interface HandOverOptions {
  /** The generation that takes over. */
  readonly next: Generation;
  readonly readyTimeoutMs: number;
  /** How long both serve once `next` is ready, before the old one is retired. */
  readonly settleMs: number;
  /** How long a `next` that failed has after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs: number;
  readonly clock: Clock;
  /** Asked once `next` is ready; `false` (a stop came meanwhile) retires it instead. */
  readonly stillWanted?: () => boolean;
  /** Called once `next` is ready and wanted, before the settle (it serves from here on). */
  readonly onReady?: () => void;
  /** Retires what served before `next`: an older generation's SIGTERM, or this process's stop. */
  readonly retireOld: () => unknown;
}

/** How a hand-over went; `retired` is what `retireOld` resolved to. */
export type HandOverResult = { readonly outcome: 'ready'; readonly retired: unknown } | { readonly outcome: 'failed'; readonly reason: string };

/**
 * The one protocol of a restart without a refused connection: wait until `next` is ready (or
 * retire it and report why not), let both serve for `settleMs`, then retire the old one. The settle
 * exists because a new process starting hogs the CPU: the old one and its clients may just have
 * been held up, and a drain begun at once would take connections whose next request is still on its
 * way for idle, and close them under the client. Rejects only when `retireOld` throws.
 */
export async function handOver(options: HandOverOptions): Promise<HandOverResult> {
  const { next, clock } = options;
  const readiness = await next.waitReady(options.readyTimeoutMs);
  const wanted = readiness.ready && (options.stillWanted?.() ?? true);
  if (!wanted) {
    const reason = readiness.ready ? 'no longer wanted' : readiness.reason;
    if (generationFailed.hasSubscribers) generationFailed.publish({ mode: next.mode, generation: next.generation, pid: next.pid, reason });
    // One SIGTERM only: a stop that came meanwhile has already sent it, and a second means "hurry".
    if (next.state === 'starting' || next.state === 'serving') next.retire(options.stopTimeoutMs);
    return { outcome: 'failed', reason };
  }
  options.onReady?.();
  if (options.settleMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, options.settleMs));
  return { outcome: 'ready', retired: await options.retireOld() };
}
