import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { LISTEN_FDS_START, LISTEN_VARIABLES } from './listen-env.ts';

/** How a started process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A process started with sockets as fd 3+ and a readiness pipe. */
export interface SocketChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles once: `ready` when it wrote READY=1, otherwise why not (exit, timeout, spawn error). */
  waitReady(timeoutMs: number): Promise<{ ready: true } | { ready: false; reason: string }>;
  /** Resolves when the process has exited (and been reaped). */
  readonly exited: Promise<ChildExit>;
  /** The exit, once it happened. */
  readonly exit: ChildExit | undefined;
}

/** Options for {@link spawnWithSockets}. */
export interface SpawnWithSocketsOptions {
  readonly command: readonly string[];
  readonly fds: readonly number[];
  readonly names: readonly string[];
  readonly env: Record<string, string | undefined>;
  readonly extraEnv?: Record<string, string>;
  readonly cwd?: string;
  /** Own process group, so a terminal's Ctrl-C reaches only the starter, which forwards it once. */
  readonly detached?: boolean;
}

/**
 * `sh` sets LISTEN_PID to its own pid and execs the command, so LISTEN_PID is the pid of the
 * program that reads it, as sd_listen_fds(3) requires; the sockets are fds 3+ and survive the exec.
 */
const LISTEN_PID_SCRIPT = 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"';

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
 * Starts `command` with the sockets `fds` as fds 3, 4 … (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID) and
 * the write end of a readiness pipe right after them (QUIESCE_READY_FD). stdin, stdout and stderr
 * are inherited. Any LISTEN_* left in `env` is replaced.
 */
export function spawnWithSockets(options: SpawnWithSocketsOptions): SocketChild {
  const { command, fds, names, cwd, detached = false } = options;
  const readyFd = LISTEN_FDS_START + fds.length;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) {
    if (value !== undefined && !LISTEN_VARIABLES.includes(key)) env[key] = value;
  }
  Object.assign(env, options.extraEnv, {
    LISTEN_FDS: String(fds.length),
    LISTEN_FDNAMES: names.join(':'),
    QUIESCE_READY_FD: String(readyFd),
  });
  const child = spawn('/bin/sh', ['-c', LISTEN_PID_SCRIPT, 'quiesce', ...command], {
    stdio: ['inherit', 'inherit', 'inherit', ...fds, 'pipe'],
    env,
    cwd,
    detached,
  });
  let exit: ChildExit | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', (error) => {
      // The spawn itself failed: there will be no 'exit'.
      spawnError = error;
      if (child.pid === undefined) {
        exit = { code: 127, signal: null };
        resolve(exit);
      }
    });
  });
  const pipe = child.stdio[readyFd] as Readable | null;
  let readyText = '';
  let settled: Promise<{ ready: true } | { ready: false; reason: string }> | undefined;

  const waitReady = (timeoutMs: number): Promise<{ ready: true } | { ready: false; reason: string }> => {
    settled ??= new Promise((resolve) => {
      const finish = (result: { ready: true } | { ready: false; reason: string }): void => {
        clearTimeout(timer);
        pipe?.off('data', onData);
        pipe?.destroy();
        resolve(result);
      };
      const onData = (chunk: Buffer): void => {
        readyText += chunk.toString('utf8');
        if (/(^|\n)READY=1(\n|$)/.test(readyText)) finish({ ready: true });
      };
      const timer = setTimeout(() => finish({ ready: false, reason: `not ready within ${timeoutMs} ms` }), timeoutMs);
      pipe?.on('data', onData);
      pipe?.on('error', () => {});
      void exited.then((how) => {
        const why = spawnError ? `could not be started (${spawnError.message})` : `exited with ${describeExit(how)} before it was ready`;
        finish({ ready: false, reason: why });
      });
    });
    return settled;
  };

  return {
    child,
    pid: child.pid ?? -1,
    waitReady,
    exited,
    get exit() {
      return exit;
    },
  };
}
