import process from 'node:process';
import { type Clock, quiesceChannels, systemClock } from '@quiesce/core';
import type { ListenableServer } from './acquire.ts';
import { HotRestartError, ListenerOptionError } from './errors.ts';
import { listenEnvFrom } from './internal/env-options.ts';
import { handOver, startGeneration } from './internal/generation.ts';
import { checkClock, checkDuration, checkEnv, checkLog, checkString } from './internal/validate.ts';
import { createServiceNotifier } from './service-notifier.ts';

/** Options for {@link hotRestart}. */
export interface HotRestartOptions {
  /** The listening server(s) whose sockets the new process takes over, as fd 3, 4 … in this order. */
  servers: ListenableServer | readonly ListenableServer[];
  /**
   * Stops this process's serving once the new one is ready: usually `() => lifecycle.shutdown('restart')`,
   * which stops accepting and drains softly (Connection: close, idle sockets closed after the grace).
   * A resolved `{ exitCode: number }` (a shutdown report) becomes the result's `exitCode`; otherwise 0.
   */
  stop: () => unknown;
  /** LISTEN_FDNAMES names, one per server. Default: the name a socket was inherited with, else `unknown`. */
  names?: readonly string[];
  /** How long the new process has to report readiness before it is killed and this one keeps serving. Default 30 000. */
  readyTimeoutMs?: number;
  /**
   * How long both processes keep accepting after the new one is ready, before `stop` runs. It lets
   * this process catch up after the new one's start held the CPU, so that its drain does not take
   * busy keep-alive connections for idle. Default 250.
   */
  settleMs?: number;
  /** The command to start. Default: the same runtime, flags and arguments (`process.execPath`, `execArgv`, `argv`). */
  command?: readonly string[];
  /** The new process's environment. Default `process.env` (LISTEN_* are set by the restart). */
  env?: Record<string, string | undefined>;
  /** Where the one-line reports go. Default `console.error`; `false` for silence. */
  log?: ((line: string) => void) | false;
  /** Times the readiness wait, the settle and the SIGKILL of a failed successor. Default `systemClock`. */
  clock?: Clock;
}

/** How a hot restart went. */
export interface HotRestartResult {
  /**
   * `restarted`: the new process is ready and this one has stopped serving (exit with `exitCode`
   * now); `rolled-back`: the new one failed, this one keeps serving; `delegated`: this process runs
   * under `quiesce run`, which was asked (SIGHUP) to roll instead (keep serving: it sends SIGTERM).
   */
  readonly outcome: 'restarted' | 'rolled-back' | 'delegated';
  /** The new process's pid (the supervisor's for `delegated`). */
  readonly pid: number | undefined;
  /** Why it was rolled back. */
  readonly reason: string | undefined;
  /** For `restarted`: the code to exit with, the `exitCode` of what `stop` resolved to (1 if it threw). */
  readonly exitCode: number | undefined;
}

const inFlight = new WeakMap<object, Promise<HotRestartResult>>();

/**
 * Restarts a Node server without refusing or losing a request: starts the same program again (same
 * runtime, same flags and arguments) with this process's listening sockets as fd 3+ by the systemd
 * protocol (LISTEN_FDS, LISTEN_FDNAMES, and LISTEN_PID equal to the new pid, through an
 * `sh -c 'LISTEN_PID=$$ exec …'` wrapper), waits for its readiness message on a pipe
 * (QUIESCE_READY_FD; `acquire()` in the new process sends it), lets both serve for `settleMs`, then
 * calls `stop` (stop accepting, drain) and resolves `restarted` with the exit code: it never exits
 * the process itself, so the caller (the lifecycle's signal policy) exits once, with that code. If the
 * new process exits or is not ready within `readyTimeoutMs`, it is stopped and this process keeps
 * serving: the result says why (rollback). Meanwhile both accept from the same socket, so nothing is
 * refused. A second call while one runs gets the same promise. Under systemd (NOTIFY_SOCKET), the new
 * process is made the service's main process (`MAINPID=`, and WATCHDOG_PID names it) once it is ready.
 * Under `quiesce run`, it asks the supervisor to roll instead. Rejects with {@link HotRestartError}
 * where the runtime hides the socket's fd (Bun, Deno: use `quiesce run`) or a server is not
 * listening, and with {@link ListenerOptionError} on bad options.
 *
 * @example
 * ```ts
 * const lifecycle = createLifecycle({
 *   adapter: createNodeAdapter(server),
 *   signals: {
 *     restart: async () => {
 *       const result = await hotRestart({ servers: server, stop: () => lifecycle.shutdown('restart') });
 *       if (result.outcome === 'restarted') process.exit(result.exitCode);
 *     },
 *   },
 * });
 * lifecycle.install(); // before acquire(): it reports readiness, after which signals may come
 * await acquire(server, { port: 3000 }); // the new process adopts the socket here
 * ```
 */
export function hotRestart(options: HotRestartOptions): Promise<HotRestartResult> {
  let config: ReturnType<typeof validate>;
  try {
    config = validate(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const key = config.servers[0]!;
  const pending = inFlight.get(key);
  if (pending) return pending;
  const run = restart(config).finally(() => inFlight.delete(key));
  inFlight.set(key, run);
  return run;
}

async function restart(config: ReturnType<typeof validate>): Promise<HotRestartResult> {
  const { log, clock } = config;
  const startedAt = clock.now();
  const { restartEnd } = quiesceChannels;
  const ended = (outcome: HotRestartResult['outcome'], pid: number | undefined, reason?: string): void => {
    if (restartEnd.hasSubscribers) restartEnd.publish({ mode: 'hot-restart', outcome, durationMs: clock.now() - startedAt, pid, reason });
  };
  // What this process inherited (its names, a supervisor), read from its own environment.
  const state = listenEnvFrom({ warn: false });
  if (state.supervisorPid !== undefined) {
    try {
      process.kill(state.supervisorPid, 'SIGHUP');
      log(`hot restart: running under quiesce run (pid ${state.supervisorPid}); asked it to roll instead`);
      ended('delegated', state.supervisorPid);
      return { outcome: 'delegated', pid: state.supervisorPid, reason: undefined, exitCode: undefined };
    } catch (error) {
      log(`hot restart: the quiesce run supervisor (pid ${state.supervisorPid}) is gone (${(error as Error).message}); restarting alone`);
    }
  }
  const fds = config.servers.map((server, i) => {
    const fd = (server as { _handle?: { fd?: unknown } | null })._handle?.fd;
    if (!server.listening) throw new HotRestartError(`servers[${i}] is not listening; a hot restart hands over listening sockets.`);
    if (typeof fd !== 'number' || fd < 0) {
      throw new HotRestartError(
        `This runtime does not expose the listening socket's file descriptor (servers[${i}]), so it cannot be handed to a new process. Hot restart works on Node; on Bun and Deno, run the app under \`quiesce run\` and send it SIGHUP.`,
      );
    }
    return fd;
  });
  const names = config.names ?? fds.map((fd) => state.listeners.find((l) => l.fd === fd)?.name ?? 'unknown');
  const next = startGeneration({ command: config.command, fds, names, env: config.env, clock, mode: 'hot-restart' });
  log(`hot restart: started pid ${next.pid} with ${fds.length} socket(s); pid ${process.pid} keeps serving until it is ready`);
  let exitCode = 0;
  const handed = await handOver({
    next,
    readyTimeoutMs: config.readyTimeoutMs,
    settleMs: config.settleMs,
    stopTimeoutMs: FAILED_SUCCESSOR_STOP_MS,
    clock,
    onReady: () => {
      // The new process lives on after this one exits.
      next.unref();
      log(`hot restart: pid ${next.pid} is ready after ${Math.round(clock.now() - next.startedAt)} ms; pid ${process.pid} stops accepting and drains`);
      // Under systemd (NOTIFY_SOCKET) the new process becomes the service's main process before this
      // one exits, and this one's shutdown from here on is not the service's (no STOPPING=1).
      const notifier = createServiceNotifier({ watchdog: false, clock, log });
      notifier.handOver(next.pid, `Hot restart: pid ${next.pid} serves; pid ${process.pid} drains`);
      void notifier.stopped();
    },
    retireOld: async () => {
      // The restart is done once the new process serves; this one's shutdown (reason `restart`)
      // follows, and its telemetry, flushed at its end, carries this message too.
      ended('restarted', next.pid);
      try {
        const stopped = (await config.stop()) as { exitCode?: unknown } | undefined;
        if (stopped && typeof stopped === 'object' && typeof stopped.exitCode === 'number') exitCode = stopped.exitCode;
      } catch (error) {
        log(`hot restart: stopping pid ${process.pid} failed: ${(error as Error)?.message ?? String(error)}`);
        exitCode = 1;
      }
    },
  });
  if (handed.outcome === 'failed') {
    log(`hot restart rolled back: pid ${next.pid} ${handed.reason}; pid ${process.pid} keeps serving`);
    ended('rolled-back', next.pid, handed.reason);
    return { outcome: 'rolled-back', pid: next.pid, reason: handed.reason, exitCode: undefined };
  }
  return { outcome: 'restarted', pid: next.pid, reason: undefined, exitCode };
}

/** How long a successor that failed has to exit after SIGTERM before it gets SIGKILL. */
const FAILED_SUCCESSOR_STOP_MS = 5_000;

function validate(options: HotRestartOptions) {
  if (options === null || typeof options !== 'object') throw new ListenerOptionError('options', options, 'an object with servers and stop');
  const {
    servers,
    stop,
    names,
    readyTimeoutMs = 30_000,
    settleMs = 250,
    command = [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    env = process.env,
    log = (line: string) => console.error(line),
    clock = systemClock,
  } = options;
  const list = (Array.isArray(servers) ? servers : [servers]) as ListenableServer[];
  if (list.length === 0 || !list.every((s) => s && typeof s.listen === 'function' && typeof s.address === 'function')) {
    throw new ListenerOptionError('servers', servers, 'a listening node:net / node:http Server, or a non-empty array of them');
  }
  if (typeof stop !== 'function') throw new ListenerOptionError('stop', stop, 'a function, e.g. () => lifecycle.shutdown("restart")');
  if (names !== undefined) {
    if (!Array.isArray(names) || names.length !== list.length || !names.every((n) => typeof n === 'string' && /^[^:\s]+$/.test(n))) {
      throw new ListenerOptionError('names', names, `${list.length} name(s) without ":" or spaces, one per server`);
    }
  }
  checkDuration('readyTimeoutMs', readyTimeoutMs);
  if (readyTimeoutMs === 0) throw new ListenerOptionError('readyTimeoutMs', readyTimeoutMs, 'more than 0 ms');
  checkDuration('settleMs', settleMs);
  if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === 'string')) {
    throw new ListenerOptionError('command', command, 'a non-empty array of strings: the program and its arguments');
  }
  checkString('command[0]', command[0]);
  checkEnv('env', env);
  const removedExit = (options as { exit?: unknown }).exit;
  if (removedExit !== undefined) {
    // Removed rather than deprecated: ignoring it would silently stop calling a custom exit function.
    throw new ListenerOptionError(
      'exit',
      removedExit,
      'no value: hotRestart() no longer exits the process; it resolves { outcome: "restarted", exitCode }, exit with that code yourself (the lifecycle\'s signal policy does)',
    );
  }
  checkLog('log', log);
  checkClock('clock', clock);
  return {
    servers: list,
    stop,
    names: names as readonly string[] | undefined,
    readyTimeoutMs,
    settleMs,
    command: [...command] as string[],
    env,
    log: log === false ? (_line: string) => {} : log,
    clock,
  };
}
