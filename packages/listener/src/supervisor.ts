import process from 'node:process';
import { type Clock, type TimerHandle, quiesceChannels, redactSecrets, systemClock } from '@quiesce/core';
import { ListenerOptionError } from './errors.ts';
import { checkListenAddress } from './internal/listen-address.ts';
import { listenEnvFrom } from './internal/env-options.ts';
import { type ChildExit, type Generation, describeExit, exitCodeOf, handOver, startGeneration } from './internal/generation.ts';
import { type HeldSocket, describeInheritedSocket, holdSockets } from './internal/socket-holder.ts';
import { checkBoolean, checkClock, checkDuration, checkEnv, checkLog, checkString } from './internal/validate.ts';
import { warnIfPidOne } from './pid-one.ts';
import { type ServiceNotifier, createServiceNotifier } from './service-notifier.ts';

/** An address for the supervisor to bind: `{ host, port, name? }`. */
export interface ListenAddress {
  host: string;
  /** 0 picks a free port (printed at start). */
  port: number;
  /** The LISTEN_FDNAMES name; default `listen-0`, `listen-1` … */
  name?: string;
}

/** Options for {@link runSupervisor}. */
export interface SupervisorOptions {
  /**
   * Sockets to bind once and pass to every generation as fd 3, 4 …: `"[NAME=]HOST:PORT"` or
   * {@link ListenAddress}. May be empty when the supervisor itself inherits sockets (systemd socket
   * activation); those come first.
   */
  listen: readonly (string | ListenAddress)[];
  /**
   * Pass on the sockets this process inherited by the systemd protocol (LISTEN_FDS with LISTEN_PID
   * equal to its pid), before the `listen` ones. Default `true`.
   */
  inherit?: boolean;
  /** The command of a generation: program (looked up in PATH) and arguments. */
  command: readonly string[];
  /** How long a new generation has to report readiness before it is stopped (rollback). Default 30 000. */
  readyTimeoutMs?: number;
  /** How long a generation has to exit after SIGTERM before it gets SIGKILL. Default 30 000. */
  stopTimeoutMs?: number;
  /**
   * How long the old generation keeps serving alongside a new one that is ready, before it gets
   * SIGTERM: time to catch up after the new one's start held the CPU, so that its drain does not take
   * busy keep-alive connections for idle. Default 250.
   */
  settleMs?: number;
  /** First delay before restarting a generation that exited on its own; it doubles per failure. Default 100. */
  restartDelayMs?: number;
  /** Longest restart delay. Default 10 000. */
  maxRestartDelayMs?: number;
  /** Listen backlog of the held sockets. Default 511. */
  backlog?: number;
  /** Environment of the generations (LISTEN_* are set by the supervisor). Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Working directory of the generations. Default the current one. */
  cwd?: string;
  /**
   * Listen to SIGHUP and SIGUSR2 (roll), SIGTERM, SIGINT and SIGQUIT (pass on to the generations and
   * exit with the current one's code). Default `true`; `false` leaves signals to the caller.
   */
  signals?: boolean;
  /** Where the supervisor's one-line reports go. Default `console.error`; `false` for silence. */
  log?: ((line: string) => void) | false;
  /** Times readiness waits, settles, SIGKILLs and restart delays. Default `systemClock`. */
  clock?: Clock;
  /**
   * Tells the service manager about the generations (systemd `Type=notify-reload`, PM2): READY=1
   * once one serves, RELOADING=1 and READY=1 around a roll, STOPPING=1 on stop. Default: one for
   * this process's environment ({@link createServiceNotifier}), which does nothing without
   * NOTIFY_SOCKET or PM2. Generations never get NOTIFY_SOCKET or WATCHDOG_*: the supervisor is the
   * service's main process, and speaks for them.
   */
  serviceNotifier?: ServiceNotifier;
}

/** A socket the supervisor holds. */
export interface SupervisorSocket {
  readonly name: string;
  /** The fd it has in every generation (3, 4 …). */
  readonly fd: number;
  readonly address: string;
  readonly port: number;
  readonly family: string;
  /** `http://address:port`. */
  readonly url: string;
}

/** A running generation. */
export interface GenerationInfo {
  /** 1 for the first, counting up with every start (rolls and restarts). */
  readonly generation: number;
  readonly pid: number;
  /** `starting` until it reports ready; `serving`; `stopping` after SIGTERM. */
  readonly state: 'starting' | 'serving' | 'stopping';
}

/** How a roll went. */
export interface RollResult {
  /** `rolled`: the new generation is ready and the old one was told to stop; `rolled-back`: the new one failed and the old one keeps serving; `skipped`: the supervisor is stopping. */
  readonly outcome: 'rolled' | 'rolled-back' | 'skipped';
  readonly generation: number | undefined;
  readonly pid: number | undefined;
  /** Why a roll was rolled back or skipped. */
  readonly reason: string | undefined;
}

/** A running supervisor; see {@link runSupervisor}. */
export interface Supervisor {
  /** The held sockets, in fd order. */
  readonly sockets: readonly SupervisorSocket[];
  /** The serving generation, if any. */
  readonly current: GenerationInfo | undefined;
  /** Every generation that has not exited yet, oldest first. */
  readonly generations: readonly GenerationInfo[];
  /** Starts a new generation, waits for it to be ready, then sends the old one SIGTERM. Rolls asked for during a roll are merged into one more roll. */
  roll(): Promise<RollResult>;
  /** Sends `signal` to every generation, stops restarting, and resolves with the exit code once all have exited. A second call sends the signal again. */
  stop(signal?: 'SIGTERM' | 'SIGINT' | 'SIGQUIT'): Promise<number>;
  /** Resolves with the supervisor's exit code: the last serving generation's (128 + n for a signal). */
  readonly exited: Promise<number>;
}

/** A generation with its number. */
interface Numbered {
  readonly id: number;
  readonly proc: Generation;
}

/** The service manager's variables for the main process: generations must not speak for the service. */
const SERVICE_MANAGER_VARIABLES: readonly string[] = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'];

/** A generation that served at least this long before exiting resets the restart backoff. */
const STABLE_MS = 10_000;

/**
 * `quiesce run`: binds the `listen` sockets once and keeps them, and runs `command` as generations
 * that get the sockets as fd 3+ by the systemd protocol (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID) plus
 * a readiness pipe (QUIESCE_READY_FD; `acquire()` writes `READY=1` to it). Because the supervisor
 * holds the sockets, no connection is ever refused: between generations, connections wait in the
 * kernel's accept queue. The supervisor itself never accepts (its copies sit in a blocked thread).
 *
 * - A roll (SIGHUP, SIGUSR2, {@link Supervisor.roll}) starts a new generation, waits up to
 *   `readyTimeoutMs` for it to be ready, lets both serve for `settleMs`, then stops the old one
 *   (it drains and exits): with `STOP=restart` on its control channel (QUIESCE_CONTROL_FD) when it
 *   listens there (a Quiesce lifecycle does: its WebSockets get 1012, its signal says `restart`),
 *   else with SIGTERM. If
 *   the new one exits or is not ready in time, it is stopped and the old one keeps serving.
 * - A serving generation that exits on its own is restarted after a backoff (100 ms doubling to 10 s).
 * - SIGTERM, SIGINT and SIGQUIT are passed to the generations; the supervisor exits with the code of
 *   the serving one. Generations get SIGKILL if they outlive `stopTimeoutMs` after SIGTERM.
 * - Every child is reaped; generations run in their own process group, so a terminal's Ctrl-C
 *   reaches them once, through the supervisor. As PID 1 (a container without an init) it warns
 *   once that orphaned grandchildren would not be reaped ({@link warnIfPidOne}).
 *
 * Resolves once the sockets are bound and the first generation is started. Rejects with
 * {@link AddressInUseError} (naming the holder) when a port is taken, {@link SupervisorError} when
 * a socket cannot be held, {@link ListenerOptionError} on bad options. The supervisor runs on Node.
 *
 * @example
 * ```ts
 * const supervisor = await runSupervisor({ listen: ['0.0.0.0:8080'], command: ['node', 'server.js'] });
 * process.exitCode = await supervisor.exited; // SIGHUP rolls, SIGTERM stops
 * ```
 */
export async function runSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  const config = validate(options);
  const log = config.log;
  warnIfPidOne({ log: (line) => log(line.replace(/^quiesce: /, '')) });
  // Sockets systemd (or another starter) gave this process are passed on as they are: this process
  // never listens on them itself, so it never accepts from them.
  const inherited = config.inherit ? listenEnvFrom({ warn: (line) => log(line.replace(/^quiesce: /, '')) }).listeners : [];
  if (inherited.length === 0 && config.listen.length === 0) {
    throw new ListenerOptionError('listen', options.listen, 'at least one address to bind: no socket was inherited (LISTEN_FDS)');
  }
  const hold = config.listen.length > 0 ? await holdSockets(config.listen, config.backlog) : { sockets: [], release: async () => {} };
  const held: HeldSocket[] = [...inherited.map((socket) => describeInheritedSocket(socket.fd, socket.name)), ...hold.sockets];
  const sockets: SupervisorSocket[] = held.map((socket, i) => {
    const host = socket.address.includes(':') ? `[${socket.address}]` : socket.address;
    return Object.freeze({ name: socket.name, fd: 3 + i, address: socket.address, port: socket.port, family: socket.family, url: `http://${host}:${socket.port}` });
  });
  sockets.forEach((socket, i) => {
    log(`listening on ${socket.url} (fd ${socket.fd}, name ${socket.name}${i < inherited.length ? ', inherited' : ''})`);
  });

  const { clock } = config;
  const notifier = config.serviceNotifier ?? createServiceNotifier({ clock, log: (line) => log(line.replace(/^quiesce: /, '')) });
  const generations: Numbered[] = [];
  let nextId = 1;
  let current: Numbered | undefined;
  let starting: Numbered | undefined;
  let lastExit: ChildExit | undefined;
  let stopping = false;
  let failures = 0;
  let restartTimer: TimerHandle | undefined;
  let rollQueued = false;
  let queuedRoll: Promise<RollResult> | undefined;
  let rolling: Promise<RollResult> | undefined;
  let resolveExited: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    resolveExited = resolve;
  });
  const signalHandlers: [NodeJS.Signals, () => void][] = [];

  const label = (g: Numbered): string => `generation ${g.id} (pid ${g.proc.pid})`;

  /**
   * `signal` now (SIGTERM by default), SIGKILL after stopTimeoutMs. For a roll (`restart`), a
   * generation that listens on its control channel is asked to stop with `STOP=restart` instead,
   * so that it tells its clients a restart (WebSockets 1012), not a shutdown.
   */
  const retire = (g: Numbered, signal: NodeJS.Signals = 'SIGTERM', request?: 'restart'): void => {
    const how = g.proc.retire(config.stopTimeoutMs, signal, () => log(`${label(g)} still runs ${config.stopTimeoutMs} ms after ${signal}: SIGKILL`), request);
    if (how === 'asked') log(`asked ${label(g)} to stop for a restart (STOP=restart on its control channel)`);
  };

  const finishIfDone = (): void => {
    if (!stopping || generations.some((g) => g.proc.state !== 'exited')) return;
    for (const [signal, handler] of signalHandlers.splice(0)) process.off(signal, handler);
    const code = lastExit ? exitCodeOf(lastExit) : 0;
    void Promise.all([hold.release(), notifier.stopped(`Stopped: exit code ${code}`)]).then(() => {
      log(`exiting with code ${code}`);
      resolveExited(code);
    });
  };

  const cancelRestart = (): void => {
    if (restartTimer === undefined) return;
    clock.clearTimeout(restartTimer);
    restartTimer = undefined;
  };

  const scheduleRestart = (why: string): void => {
    if (stopping || restartTimer !== undefined || current || starting) return;
    failures++;
    const delay = Math.min(config.maxRestartDelayMs, config.restartDelayMs * 2 ** (failures - 1));
    log(`${why}; restarting in ${delay} ms`);
    notifier.status(`Not serving: ${why}; restarting in ${delay} ms`);
    restartTimer = clock.setTimeout(() => {
      restartTimer = undefined;
      if (rolling || stopping) return;
      rolling = start('restart').finally(() => {
        rolling = undefined;
      });
    }, delay);
  };

  const onExit = (g: Numbered, exit: ChildExit): void => {
    const was = g.proc.exitedWhile;
    generations.splice(generations.indexOf(g), 1);
    if (current === g) {
      current = undefined;
      lastExit = exit;
      if (g.proc.readyAt !== undefined && clock.now() - g.proc.readyAt >= STABLE_MS) failures = 0;
      if (was === 'serving' && !stopping) scheduleRestart(`${label(g)} exited on its own with ${describeExit(exit)}`);
      else log(`${label(g)} exited with ${describeExit(exit)}`);
    } else if (was !== 'starting') {
      log(`${label(g)} exited with ${describeExit(exit)}`);
    }
    finishIfDone();
  };

  /** Starts a generation and hands over to it once it is ready (see handOver), or says why not. */
  const start = async (kind: 'initial' | 'roll' | 'restart'): Promise<RollResult> => {
    const id = nextId++;
    const g: Numbered = {
      id,
      proc: startGeneration({
        command: config.command,
        fds: held.map((s) => s.fd),
        names: held.map((s) => s.name),
        env: config.env,
        extraEnv: { QUIESCE_SUPERVISOR_PID: String(process.pid) },
        withoutEnv: SERVICE_MANAGER_VARIABLES,
        cwd: config.cwd,
        detached: true,
        clock,
        mode: 'supervisor',
        generation: id,
      }),
    };
    generations.push(g);
    starting = g;
    void g.proc.exited.then((exit) => onExit(g, exit));
    log(`${label(g)} started: ${redactSecrets(config.command.join(' '))}`);
    const old = current;
    const handed = await handOver({
      next: g.proc,
      readyTimeoutMs: config.readyTimeoutMs,
      settleMs: old ? config.settleMs : 0,
      stopTimeoutMs: config.stopTimeoutMs,
      clock,
      stillWanted: () => !stopping && g.proc.state === 'serving',
      onReady: () => {
        if (starting === g) starting = undefined;
        current = g;
        log(`${label(g)} ready in ${Math.round(clock.now() - g.proc.startedAt)} ms${old ? `; stopping ${label(old)}` : ''}`);
      },
      // A stop meanwhile has already signalled the old one; a second SIGTERM would mean "hurry".
      retireOld: () => {
        if (old && old.proc.state === 'serving') retire(old, 'SIGTERM', 'restart');
      },
    });
    if (starting === g) starting = undefined;
    if (handed.outcome === 'ready') {
      // READY=1 also ends a reload (Type=notify-reload); once serving, systemd ignores it.
      if (!stopping) notifier.ready(`Serving: ${label(g)}`);
      return { outcome: 'rolled', generation: g.id, pid: g.proc.pid, reason: undefined };
    }
    const reason = handed.reason === 'no longer wanted' ? 'the supervisor is stopping' : handed.reason;
    if (stopping) return { outcome: 'skipped', generation: g.id, pid: g.proc.pid, reason };
    if (current) {
      log(`${label(g)} failed: ${reason}; rolled back, ${label(current)} keeps serving`);
      // The reload is over and the service serves: READY=1, with a status that says the old code does.
      notifier.ready(`Reload failed: ${label(g)} ${reason}; ${label(current)} keeps serving`);
      return { outcome: 'rolled-back', generation: g.id, pid: g.proc.pid, reason };
    }
    // Nothing serves: a command that cannot be found never heals, anything else is retried.
    const exit = g.proc.exit;
    if (kind === 'initial' && exit && (exit.code === 126 || exit.code === 127)) {
      log(`${label(g)} failed: ${reason} (command not found or not executable); giving up`);
      lastExit = exit;
      stopping = true;
      finishIfDone();
    } else {
      if (exit) lastExit = exit;
      scheduleRestart(`${label(g)} failed: ${reason}`);
    }
    return { outcome: 'rolled-back', generation: g.id, pid: g.proc.pid, reason };
  };

  /** `quiesce:restart:end` for a roll that ended. */
  const rolled = (result: RollResult, startedAt: number): RollResult => {
    const { restartEnd } = quiesceChannels;
    if (restartEnd.hasSubscribers) restartEnd.publish({ mode: 'supervisor', outcome: result.outcome, durationMs: clock.now() - startedAt, pid: result.pid, reason: result.reason });
    return result;
  };

  const roll = (): Promise<RollResult> => {
    if (stopping) return Promise.resolve(rolled({ outcome: 'skipped', generation: undefined, pid: undefined, reason: 'the supervisor is stopping' }, clock.now()));
    if (rolling) {
      // One more roll after the one in progress, however many were asked for meanwhile.
      if (!rollQueued) {
        rollQueued = true;
        queuedRoll = rolling.then(() => {
          rollQueued = false;
          return roll();
        });
      }
      return queuedRoll!;
    }
    cancelRestart();
    notifier.reloading(`Reloading: starting generation ${nextId}`);
    const startedAt = clock.now();
    rolling = start(current ? 'roll' : 'restart').then((result) => rolled(result, startedAt)).finally(() => {
      rolling = undefined;
    });
    return rolling;
  };

  const stop = (signal: 'SIGTERM' | 'SIGINT' | 'SIGQUIT' = 'SIGTERM'): Promise<number> => {
    cancelRestart();
    const again = stopping;
    stopping = true;
    if (!again) notifier.stopping({ status: `Stopping (${signal})`, timeLeftMs: config.stopTimeoutMs });
    log(`${signal}: ${again ? 'passing it on again' : 'stopping'} (${generations.map(label).join(', ') || 'no generation running'})`);
    for (const g of generations) {
      if (again) g.proc.signal(signal);
      else retire(g, signal);
    }
    finishIfDone();
    return exited;
  };

  if (config.signals) {
    const on = (signal: NodeJS.Signals, handler: () => void): void => {
      process.on(signal, handler);
      signalHandlers.push([signal, handler]);
    };
    on('SIGHUP', () => void roll());
    on('SIGUSR2', () => void roll());
    on('SIGTERM', () => void stop('SIGTERM'));
    on('SIGINT', () => void stop('SIGINT'));
    on('SIGQUIT', () => void stop('SIGQUIT'));
  }

  rolling = start('initial').finally(() => {
    rolling = undefined;
  });

  const info = (g: Numbered): GenerationInfo => ({ generation: g.id, pid: g.proc.pid, state: g.proc.state === 'exited' ? 'stopping' : g.proc.state });
  return {
    sockets,
    get current() {
      return current ? info(current) : undefined;
    },
    get generations() {
      return generations.map(info);
    },
    roll,
    stop,
    exited,
  };
}

interface Config {
  listen: ReturnType<typeof checkListenAddress>[];
  command: readonly string[];
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  settleMs: number;
  restartDelayMs: number;
  maxRestartDelayMs: number;
  backlog: number;
  env: Record<string, string | undefined>;
  cwd: string | undefined;
  inherit: boolean;
  signals: boolean;
  log: (line: string) => void;
  clock: Clock;
  serviceNotifier: ServiceNotifier | undefined;
}

function validate(options: SupervisorOptions): Config {
  if (options === null || typeof options !== 'object') throw new ListenerOptionError('options', options, 'an object with listen and command');
  const {
    listen,
    command,
    readyTimeoutMs = 30_000,
    stopTimeoutMs = 30_000,
    settleMs = 250,
    restartDelayMs = 100,
    maxRestartDelayMs = 10_000,
    backlog = 511,
    env = process.env,
    cwd,
    inherit = true,
    signals = true,
    log = (line: string) => console.error(line),
    clock = systemClock,
  } = options;
  if (!Array.isArray(listen)) {
    throw new ListenerOptionError('listen', listen, 'an array of "HOST:PORT" strings or { host, port, name? } objects');
  }
  const addresses = listen.map((spec, i) => checkListenAddress(`listen[${i}]`, spec, i));
  const names = addresses.map((a) => a.name);
  const dup = names.find((name, i) => names.indexOf(name) !== i);
  if (dup !== undefined) throw new ListenerOptionError('listen', listen, `distinct names (${JSON.stringify(dup)} is used twice)`);
  if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === 'string')) {
    throw new ListenerOptionError('command', command, 'a non-empty array of strings: the program and its arguments');
  }
  checkString('command[0]', command[0]);
  const positive = (name: string, value: unknown): number => {
    checkDuration(name, value);
    if (value === 0) throw new ListenerOptionError(name, value, 'more than 0 ms');
    return value;
  };
  positive('readyTimeoutMs', readyTimeoutMs);
  positive('stopTimeoutMs', stopTimeoutMs);
  checkDuration('settleMs', settleMs);
  positive('restartDelayMs', restartDelayMs);
  positive('maxRestartDelayMs', maxRestartDelayMs);
  if (maxRestartDelayMs < restartDelayMs) {
    throw new ListenerOptionError('maxRestartDelayMs', maxRestartDelayMs, `at least restartDelayMs (${restartDelayMs})`);
  }
  if (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 1) {
    throw new ListenerOptionError('backlog', backlog, 'a whole number ≥ 1');
  }
  checkEnv('env', env);
  if (cwd !== undefined) checkString('cwd', cwd);
  checkBoolean('inherit', inherit);
  checkBoolean('signals', signals);
  checkLog('log', log);
  checkClock('clock', clock);
  const { serviceNotifier } = options;
  if (serviceNotifier !== undefined && (serviceNotifier === null || typeof serviceNotifier !== 'object' || typeof serviceNotifier.ready !== 'function')) {
    throw new ListenerOptionError('serviceNotifier', serviceNotifier, 'a ServiceNotifier from createServiceNotifier()');
  }
  const prefixed = log === false ? () => {} : (line: string) => log(`quiesce run: ${line}`);
  return {
    listen: addresses,
    command: [...command],
    readyTimeoutMs,
    stopTimeoutMs,
    settleMs,
    restartDelayMs,
    maxRestartDelayMs,
    backlog,
    env,
    cwd,
    inherit,
    signals,
    log: prefixed,
    clock,
    serviceNotifier,
  };
}
