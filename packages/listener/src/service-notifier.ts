import process from 'node:process';
import { type Clock, type TimerHandle, envReadPermitted, systemClock } from '@quiesce/core';
import { ListenerOptionError } from './errors.ts';
import { type NotifySocket, monotonicMicros, openNotifySocket, unrefTimer } from './internal/notify-socket.ts';
import { checkBoolean, checkClock, checkEnv, checkLog, checkPid } from './internal/validate.ts';

/** Options for {@link createServiceNotifier}. */
export interface ServiceNotifierOptions {
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID and PM2's `pm_id` are read. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** This process's pid, compared with WATCHDOG_PID. Default `process.pid`. */
  pid?: number;
  /** Times the watchdog pings. Default `systemClock`. */
  clock?: Clock;
  /** Send `WATCHDOG=1` while WATCHDOG_USEC asks for it. Default `true`; `false` when something else pings. */
  watchdog?: boolean;
  /** Where the one report of a notify socket that does not work goes. Default `console.error`; `false` for silence. */
  log?: ((line: string) => void) | false;
}

/** Where a notifier's messages go. */
export interface ServiceNotifierTargets {
  /** NOTIFY_SOCKET is set (systemd `Type=notify`, `notify-reload`): how messages reach it, else `undefined`. */
  readonly systemd: 'datagram' | 'systemd-notify' | undefined;
  /** Running under PM2 with an IPC channel: `ready()` sends `process.send('ready')` (for `wait_ready`). */
  readonly pm2: boolean;
  /** `WATCHDOG=1` is sent every this many ms (half of WATCHDOG_USEC), else `undefined`. */
  readonly watchdogMs: number | undefined;
}

/**
 * Tells the service manager what the service is doing: systemd through NOTIFY_SOCKET (sd_notify),
 * PM2 through its IPC channel. The methods return at once, never throw for a failed send, and do
 * nothing where nobody listens; messages leave in call order.
 */
export interface ServiceNotifier {
  readonly targets: ServiceNotifierTargets;
  /** Serving: `READY=1` with a `STATUS=` line; PM2 gets `'ready'`. Also ends a reload. */
  ready(status?: string): void;
  /** A `STATUS=` line (one line; newlines become spaces). */
  status(text: string): void;
  /** A reload starts: `RELOADING=1` with `MONOTONIC_USEC=` (Type=notify-reload), then call {@link ServiceNotifier.ready}. */
  reloading(status?: string): void;
  /**
   * Shutdown starts: `STOPPING=1`, a `STATUS=`, and with `timeLeftMs` (what is left of the deadline)
   * `EXTEND_TIMEOUT_USEC=` of that plus a margin for the exit, so systemd does not kill a shutdown
   * that keeps within its deadline (it only ever lengthens its own timeout, never shortens it).
   */
  stopping(options?: { status?: string; timeLeftMs?: number }): void;
  /** A step of the shutdown: `STATUS=Shutting down: <name>` and, with `timeLeftMs`, `EXTEND_TIMEOUT_USEC=` again. */
  phase(name: string, timeLeftMs?: number): void;
  /** Done: a last `STATUS=`; the watchdog stops and nothing is sent after it. Resolves once sent. */
  stopped(status?: string): Promise<void>;
  /**
   * Another process takes over as the service (a hot restart): `MAINPID=` names it. From then on no
   * notifier of this process sends anything, so this one's shutdown does not read as the service's
   * (`STOPPING=1` would stop it). Throws {@link ListenerOptionError} for a pid that is not one.
   */
  handOver(pid: number, status?: string): void;
  /** Resolves once every message so far has been sent (or failed). */
  flush(): Promise<void>;
}

/** Time kept for the exit after the deadline, in EXTEND_TIMEOUT_USEC= (the report, runtime teardown). */
const EXIT_MARGIN_MS = 1_000;

/** Set once this process has handed the service over (MAINPID=): every notifier goes quiet. */
let handedOverTo: number | undefined;

/**
 * Creates the notifier of this process. With NOTIFY_SOCKET set it sends sd_notify messages without a
 * native add-on (a datagram socket where the runtime has one: Deno with `--unstable-net`; else
 * `systemd-notify`, which Node and Bun run), and pings `WATCHDOG=1` every WATCHDOG_USEC / 2 while
 * WATCHDOG_USEC is set and WATCHDOG_PID is unset or this pid (the timer does not keep the process
 * alive). Without NOTIFY_SOCKET nothing is sent, spawned or timed. A notify socket that does not
 * work is reported once through `log` and never breaks serving or shutdown. Under PM2 (`pm_id` set
 * and an IPC channel) `ready()` also sends `process.send('ready')`. Throws
 * {@link ListenerOptionError} on bad options.
 *
 * @example
 * ```ts
 * const notifier = createServiceNotifier();
 * server.listen(3000, () => notifier.ready());
 * process.once('SIGTERM', async () => {
 *   notifier.stopping({ timeLeftMs: 10_000 });
 *   await new Promise((resolve) => server.close(resolve));
 *   await notifier.stopped('stopped: clean');
 *   process.exit(0);
 * });
 * ```
 */
export function createServiceNotifier(options: ServiceNotifierOptions = {}): ServiceNotifier {
  if (options === null || typeof options !== 'object') throw new ListenerOptionError('options', options, 'an object');
  const { env = process.env, pid = process.pid, clock = systemClock, watchdog = true, log = (line: string) => console.error(line) } = options;
  checkEnv('env', env);
  checkPid('pid', pid);
  checkClock('clock', clock);
  checkBoolean('watchdog', watchdog);
  checkLog('log', log);

  // Only what the runtime lets this process read (Deno: --allow-env=NOTIFY_SOCKET,…): a variable it
  // may not read counts as unset, and never crashes a server started with --allow-net alone.
  const read = (name: string): string | undefined => (envReadPermitted(name, env) ? env[name] : undefined);
  const address = read('NOTIFY_SOCKET');
  // systemd-notify needs NOTIFY_SOCKET and PATH only; the whole environment may not be readable.
  const notifyEnv = { NOTIFY_SOCKET: address, PATH: read('PATH') ?? '/usr/local/bin:/usr/bin:/bin' };
  const socket: NotifySocket | undefined =
    address !== undefined && address !== ''
      ? openNotifySocket({ address, env: notifyEnv, clock, report: log === false ? () => {} : log })
      : undefined;
  const send = typeof process.send === 'function' ? process.send.bind(process) : undefined;
  const pm2 = read('pm_id') !== undefined && send !== undefined;
  const watchdogMs = socket && watchdog ? watchdogInterval(read, pid) : undefined;
  let done = false;

  const quiet = (): boolean => done || handedOverTo !== undefined;
  const message = (lines: (string | undefined)[]): void => {
    if (!socket || quiet()) return;
    socket.send(lines.filter((line): line is string => line !== undefined));
  };
  const statusLine = (text: string | undefined): string | undefined => (text === undefined ? undefined : `STATUS=${oneLine(text)}`);
  const extendLine = (timeLeftMs: number | undefined): string | undefined =>
    timeLeftMs === undefined || !Number.isFinite(timeLeftMs) ? undefined : `EXTEND_TIMEOUT_USEC=${Math.ceil(Math.max(0, timeLeftMs) + EXIT_MARGIN_MS) * 1_000}`;

  let watchdogTimer: TimerHandle | undefined;
  const ping = (): void => {
    watchdogTimer = undefined;
    if (quiet() || watchdogMs === undefined) return;
    // A ping still waiting behind a slow systemd-notify says the same thing: one is enough.
    if (!socket!.queued('WATCHDOG=1')) message(['WATCHDOG=1']);
    watchdogTimer = clock.setTimeout(ping, watchdogMs);
    unrefTimer(watchdogTimer);
  };
  if (watchdogMs !== undefined) {
    watchdogTimer = clock.setTimeout(ping, watchdogMs);
    unrefTimer(watchdogTimer);
  }

  return {
    get targets() {
      // The transport can change once: Deno without write permission on the socket falls back to systemd-notify.
      return { systemd: socket?.transport, pm2, watchdogMs };
    },
    ready(status = 'Serving') {
      if (quiet()) return;
      message(['READY=1', statusLine(status)]);
      if (pm2) {
        try {
          send!('ready');
        } catch {
          // the IPC channel closed: PM2 is gone
        }
      }
    },
    status(text) {
      message([statusLine(text)]);
    },
    reloading(status = 'Reloading') {
      const now = monotonicMicros();
      message(['RELOADING=1', now === undefined ? undefined : `MONOTONIC_USEC=${now}`, statusLine(status)]);
    },
    stopping(stopOptions = {}) {
      // Nobody to tell (no NOTIFY_SOCKET): the lines are not even built, here and in phase().
      if (!socket || quiet()) return;
      message(['STOPPING=1', statusLine(stopOptions.status ?? 'Shutting down'), extendLine(stopOptions.timeLeftMs)]);
    },
    phase(name, timeLeftMs) {
      if (!socket || quiet()) return;
      const left = timeLeftMs === undefined ? '' : ` (${Math.max(0, Math.round(timeLeftMs))} ms left)`;
      message([statusLine(`Shutting down: ${name}${left}`), extendLine(timeLeftMs)]);
    },
    async stopped(status) {
      if (status !== undefined) message([statusLine(status)]);
      done = true;
      if (watchdogTimer !== undefined) clock.clearTimeout(watchdogTimer);
      watchdogTimer = undefined;
      await socket?.close();
    },
    handOver(newPid, status) {
      checkPid('pid', newPid);
      if (!socket || quiet()) return;
      message([`MAINPID=${newPid}`, statusLine(status ?? `Handed over to pid ${newPid}`)]);
      handedOverTo = newPid;
    },
    flush() {
      return socket?.flush() ?? Promise.resolve();
    },
  };
}

/** Half of WATCHDOG_USEC in ms when it applies to `pid`; `undefined` otherwise (sd_watchdog_enabled's rules). */
function watchdogInterval(read: (name: string) => string | undefined, pid: number): number | undefined {
  const usec = read('WATCHDOG_USEC');
  if (usec === undefined || !/^\d+$/.test(usec) || Number(usec) === 0) return undefined;
  const owner = read('WATCHDOG_PID');
  if (owner !== undefined && owner !== '' && Number(owner) !== pid) return undefined;
  return Math.max(1, Math.floor(Number(usec) / 2 / 1_000));
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1_000);
}
