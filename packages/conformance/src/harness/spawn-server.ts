import { type ChildProcess, spawn } from 'node:child_process';
import { HarnessOptionError, LineTimeoutError, ServerStartError } from './errors.ts';
import { checkArgs, checkDuration, checkEnv, checkString } from './internal/validate.ts';
import { type Runtime, runtimeCommand } from './runtimes.ts';

/** Options for {@link startServer}. */
export interface StartServerOptions {
  /** The runtime to run the script on. */
  runtime: Runtime;
  /** Path of the server script (absolute, or relative to `cwd`). */
  script: string;
  /** Arguments passed to the script. */
  args?: readonly string[];
  /** Environment on top of `process.env`. `PORT` defaults to `0` (any free port) and `HOST` to `127.0.0.1`. */
  env?: Readonly<Record<string, string>>;
  /** Working directory of the child; default the current one. */
  cwd?: string;
  /**
   * A line on stdout or stderr that says the server is ready; its first capture group is the URL.
   * Default `/listening on (http:\/\/\S+)/`.
   */
  readyPattern?: RegExp;
  /** Kill the child and reject if it is not ready within this many ms. Default 15 000. */
  timeoutMs?: number;
}

/** How a server child process ended. */
export interface ServerExit {
  /** Exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or `null` when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds from the first {@link ServerHandle.kill} to the exit; from the spawn if it was never signalled. */
  readonly afterMs: number;
  /** Whether {@link ServerHandle.kill} (or `stop`) had been called before it exited. */
  readonly signalled: boolean;
}

/** A running server child process, ready to take requests; see {@link startServer}. */
export interface ServerHandle {
  readonly runtime: Runtime;
  readonly pid: number;
  /** The URL from the ready line, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Host name from {@link ServerHandle.url} (IPv6 without brackets). */
  readonly host: string;
  /** Port from {@link ServerHandle.url}: the real port even when `PORT=0` was asked. */
  readonly port: number;
  /** Lines printed on stdout so far (growing). */
  readonly stdout: readonly string[];
  /** Lines printed on stderr so far (growing). */
  readonly stderr: readonly string[];
  /** Lines of both streams so far, in arrival order (growing). */
  readonly lines: readonly string[];
  /** The exit, once it happened; `undefined` while the child runs. */
  readonly exitStatus: ServerExit | undefined;
  /**
   * Resolves with the first line (stdout or stderr, from `fromLine` in {@link ServerHandle.lines},
   * default 0 = from the start) that matches `pattern`. Rejects with {@link LineTimeoutError}
   * after `timeoutMs` (default 5 000) or when the child exits without printing it.
   */
  waitForLine(pattern: RegExp, timeoutMs?: number, fromLine?: number): Promise<string>;
  /** Sends a signal (default `SIGTERM`); returns `false` if the child had already exited. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Resolves when the child has exited and its output is collected. Never rejects. */
  readonly exited: Promise<ServerExit>;
  /** For `afterEach`: SIGKILLs the child if it still runs, then resolves with its exit. Idempotent. */
  stop(): Promise<ServerExit>;
}

const DEFAULT_READY = /listening on (http:\/\/\S+)/;
/** Once a child has exited, wait this long for its pipes to close before giving up on more output. */
const STDIO_GRACE_MS = 1_000;

const liveServers = new Set<{ child: ChildProcess; exited: Promise<ServerExit> }>();
let exitHookInstalled = false;

/** Last resort if a test run dies without `afterAll`: no orphan servers. Installed on first spawn, not at import. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { child } of liveServers) child.kill('SIGKILL');
  });
}

function withoutStatefulFlags(pattern: RegExp): RegExp {
  return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
}

/**
 * Spawns a server script as a real child process on `runtime`, collects its output line by line and
 * resolves once a line matches `readyPattern`, with a handle holding the URL and port it printed.
 * Rejects with {@link ServerStartError} (holding the output) if the child fails to spawn, exits
 * first, prints no usable URL, or is not ready within `timeoutMs`; the child is killed then.
 * Every child is tracked until it exits; call {@link killAllServers} in `afterAll`.
 *
 * @example
 * ```ts
 * const server = await startServer({ runtime: 'deno', script: fixture('plain-server.mjs') });
 * server.kill('SIGTERM');
 * const exit = await server.exited; // { code: 0, signal: null, afterMs: 12, signalled: true }
 * ```
 */
export function startServer(options: StartServerOptions): Promise<ServerHandle> {
  if (options === null || typeof options !== 'object') {
    return Promise.reject(new HarnessOptionError('options', options, 'an object with runtime and script'));
  }
  const { runtime, script, args = [], env = {}, cwd, readyPattern = DEFAULT_READY, timeoutMs = 15_000 } = options;
  let command: ReturnType<typeof runtimeCommand>;
  try {
    checkArgs('args', args);
    checkEnv('env', env);
    if (cwd !== undefined) checkString('cwd', cwd);
    if (!(readyPattern instanceof RegExp)) throw new HarnessOptionError('readyPattern', readyPattern, 'a RegExp');
    checkDuration('timeoutMs', timeoutMs);
    command = runtimeCommand(runtime, script, args);
  } catch (error) {
    return Promise.reject(error);
  }

  installExitHook();
  const ready = withoutStatefulFlags(readyPattern);
  const spawnedAt = performance.now();
  const child = spawn(command.command, [...command.args], {
    cwd,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...command.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines: string[] = [];
  const lineListeners = new Set<() => void>();
  let firstKillAt: number | undefined;
  let exitStatus: ServerExit | undefined;
  let outputDone = false;
  let spawnError: Error | undefined;

  const notify = (): void => {
    for (const listener of [...lineListeners]) listener();
  };
  const collect = (stream: NodeJS.ReadableStream | null, into: string[]): Promise<void> =>
    new Promise((resolve) => {
      if (!stream) return resolve();
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const parts = (partial + text).split(/\r?\n/);
        partial = parts.pop() ?? '';
        for (const line of parts) {
          into.push(line);
          lines.push(line);
        }
        if (parts.length > 0) notify();
      });
      const finish = (): void => {
        if (partial !== '') {
          into.push(partial);
          lines.push(partial);
          partial = '';
          notify();
        }
        resolve();
      };
      stream.once('end', finish);
      stream.once('close', finish);
      stream.once('error', finish);
    });
  const outputClosed = Promise.all([collect(child.stdout, stdout), collect(child.stderr, stderr)]);

  const exited = new Promise<ServerExit>((resolve) => {
    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      const now = performance.now();
      exitStatus = {
        code,
        signal,
        afterMs: Math.round(now - (firstKillAt ?? spawnedAt)),
        signalled: firstKillAt !== undefined,
      };
      const status = exitStatus;
      // A grandchild may hold the pipes open; do not wait for them forever.
      let grace: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise((done) => {
        grace = setTimeout(done, STDIO_GRACE_MS);
      });
      void Promise.race([outputClosed, graceOver]).then(() => {
        clearTimeout(grace);
        outputDone = true;
        notify();
        resolve(status);
      });
    };
    child.once('exit', settle);
    child.once('error', (error) => {
      // Spawn failure: 'exit' may never come.
      if (exitStatus === undefined) {
        spawnError = error;
        settle(null, null);
      }
    });
  });
  const entry = { child, exited };
  liveServers.add(entry);
  void exited.then(() => liveServers.delete(entry));

  const kill = (signal: NodeJS.Signals = 'SIGTERM'): boolean => {
    if (exitStatus !== undefined || child.exitCode !== null || child.signalCode !== null) return false;
    firstKillAt ??= performance.now();
    return child.kill(signal);
  };

  const waitForLine = (pattern: RegExp, lineTimeoutMs = 5_000, fromLine = 0): Promise<string> => {
    if (!(pattern instanceof RegExp)) return Promise.reject(new HarnessOptionError('pattern', pattern, 'a RegExp'));
    try {
      checkDuration('timeoutMs', lineTimeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const matcher = withoutStatefulFlags(pattern);
    return new Promise((resolve, reject) => {
      let scanned = Math.max(0, fromLine);
      const check = (): void => {
        for (; scanned < lines.length; scanned++) {
          const line = lines[scanned]!;
          if (matcher.test(line)) {
            done(() => resolve(line));
            return;
          }
        }
        if (outputDone) {
          const how = exitStatus?.signal ? `signal ${exitStatus.signal}` : `code ${exitStatus?.code}`;
          done(() => reject(new LineTimeoutError(matcher, `the server exited (${how}) first`, { stdout, stderr })));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new LineTimeoutError(matcher, `not printed within ${lineTimeoutMs} ms`, { stdout, stderr }))),
        lineTimeoutMs,
      );
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        lineListeners.delete(check);
        settle();
      };
      lineListeners.add(check);
      check();
    });
  };

  const stop = async (): Promise<ServerExit> => {
    kill('SIGKILL');
    return exited;
  };

  return new Promise<ServerHandle>((resolve, reject) => {
    const fail = (reason: ServerStartError['reason'], detail: string, cause?: unknown): void => {
      lineListeners.delete(check);
      clearTimeout(timer);
      kill('SIGKILL');
      reject(new ServerStartError(reason, detail, { stdout, stderr, pid: child.pid }, { cause }));
    };
    const timer = setTimeout(
      () => fail('timeout', `no line matched ${ready} within ${timeoutMs} ms (${runtime} ${script})`),
      timeoutMs,
    );
    let scanned = 0;
    const check = (): void => {
      for (; scanned < lines.length; scanned++) {
        const match = ready.exec(lines[scanned]!);
        if (!match) continue;
        lineListeners.delete(check);
        clearTimeout(timer);
        const text = match[1] ?? match[0];
        let url: URL;
        try {
          url = new URL(text);
        } catch (error) {
          fail('url', `the ready line ${JSON.stringify(lines[scanned])} holds no URL (got ${JSON.stringify(text)})`, error);
          return;
        }
        const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
        const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
        const handle: ServerHandle = {
          runtime,
          pid: child.pid ?? -1,
          url: url.origin,
          host,
          port,
          stdout,
          stderr,
          lines,
          get exitStatus() {
            return exitStatus;
          },
          waitForLine,
          kill,
          exited,
          stop,
        };
        resolve(handle);
        return;
      }
      if (outputDone) {
        if (spawnError) {
          fail('spawn', `could not spawn ${command.command}: ${spawnError.message}`, spawnError);
          return;
        }
        const how = exitStatus?.signal ? `signal ${exitStatus.signal}` : `code ${exitStatus?.code}`;
        fail('exited', `the ${runtime} process exited (${how}) before printing a line matching ${ready}`);
      }
    };
    lineListeners.add(check);
    check();
  });
}

/**
 * SIGKILLs every server child started by {@link startServer} that still runs and resolves once they
 * have exited (or after 5 s). For `afterAll`, so that no test leaves a process behind even on failure.
 *
 * @example
 * ```ts
 * afterAll(() => killAllServers());
 * ```
 */
export async function killAllServers(): Promise<void> {
  const pending = [...liveServers];
  for (const { child } of pending) child.kill('SIGKILL');
  await Promise.race([
    Promise.all(pending.map(({ exited }) => exited)),
    new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
  ]);
}
