import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { check, HarnessOptionError, LineTimeoutError } from './errors.ts';
import { killTree } from './processes.ts';
import type { RuntimeCommand } from './runtimes.ts';
import { checkArgs, checkDuration } from './validate.ts';

/** Options for {@link startChild}. */
export interface StartChildOptions {
  /**
   * Environment on top of `process.env` (and of `NO_COLOR=1 FORCE_COLOR=0`, so that output is
   * plain text); `undefined` removes a variable.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Working directory; default the current one. */
  cwd?: string;
  /** `pipe` to write to the child with {@link Child.write}; default `ignore`. */
  stdin?: 'pipe' | 'ignore';
  /** What the child gets as fd 3, 4, …: an open fd (an inherited socket), `pipe` or `ignore`. */
  extraStdio?: readonly (number | 'pipe' | 'ignore')[];
  /**
   * Opens a Node IPC channel after the other fds, as `child_process.fork()` and PM2 do: a Node child
   * gets `process.send()`, and what it sends is collected in {@link Child.messages}. Default `false`.
   */
  ipc?: boolean;
  /** A name for error messages; default the command line. */
  name?: string;
}

/** How a child process ended. */
export interface ChildExit {
  /** Exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or `null` when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds from the first {@link Child.kill} to the exit; from the spawn if it was never signalled. */
  readonly afterMs: number;
  /** Whether {@link Child.kill} (or `stop`) had been called before it exited. */
  readonly signalled: boolean;
}

/** A real child process whose output is collected line by line; see {@link startChild}. */
export interface Child {
  readonly process: ChildProcess;
  /** The child's pid (-1 if it could not be spawned). */
  readonly pid: number;
  readonly name: string;
  /** Lines printed on stdout so far (growing). */
  readonly stdout: readonly string[];
  /** Lines printed on stderr so far (growing). */
  readonly stderr: readonly string[];
  /** Lines of both streams so far, in arrival order (growing). */
  readonly lines: readonly string[];
  /** What the child sent with `process.send()` so far, in order (growing); always empty without `ipc: true`. */
  readonly messages: readonly unknown[];
  /** The exit, once it happened and its output is collected; `undefined` while the child runs. */
  readonly exitStatus: ChildExit | undefined;
  /** Resolves when the child has exited and its output is collected. Never rejects. */
  readonly exited: Promise<ChildExit>;
  /**
   * Resolves with the first line (stdout or stderr, from `fromLine` in {@link Child.lines}, default
   * 0 = from the start) that matches `pattern`. Rejects with {@link LineTimeoutError} after
   * `timeoutMs` (default 15 000) or when the child exits without printing it.
   */
  waitForLine(pattern: RegExp, timeoutMs?: number, fromLine?: number): Promise<string>;
  /** Resolves with the exit; rejects with an error holding the output if it takes longer than `timeoutMs` (default 15 000). */
  waitForExit(timeoutMs?: number): Promise<ChildExit>;
  /** Sends a signal (default `SIGTERM`); returns `false` if the child had already exited. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Writes `line` and a newline to the child's stdin (`stdin: 'pipe'`); a dead child's stdin is ignored. */
  write(line: string): void;
  /** For `afterEach`: SIGKILLs the child if it still runs, then resolves with its exit. Idempotent. */
  stop(): Promise<ChildExit>;
}

/** Once a child has exited, wait this long for its pipes to close before giving up on more output. */
const STDIO_GRACE_MS = 1_000;

const liveChildren = new Set<{ child: ChildProcess; exited: Promise<ChildExit> }>();
let exitHookInstalled = false;

/** Last resort if a test run dies without `afterAll`: no orphans. Installed on first spawn, not at import. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { child } of liveChildren) child.kill('SIGKILL');
  });
}

/** `pattern` without the `g` and `y` flags, whose `lastIndex` would make `test()` skip matches. */
export function withoutStatefulFlags(pattern: RegExp): RegExp {
  return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
}

/**
 * Spawns `command` (an argv array, or a {@link RuntimeCommand} from `runtimeCommand()`) as a real
 * child process and collects its stdout and stderr line by line. Every child is tracked until it
 * exits; call {@link killAllChildren} in `afterEach`/`afterAll`. Throws {@link HarnessOptionError}
 * on a bad command.
 *
 * @example
 * ```ts
 * const child = startChild(runtimeCommand('deno', fixture('child.mjs'), ['clean']), { stdin: 'pipe' });
 * await child.waitForLine(/^ready /, 20_000);
 * child.kill('SIGTERM');
 * expect(await child.waitForExit()).toMatchObject({ code: 0, signal: null });
 *
 * // A Node child with an IPC channel, as PM2 starts an app: what it process.send()s is collected.
 * const app = startChild(runtimeCommand('node', fixture('app.mjs')), { ipc: true, env: { pm_id: '0' } });
 * await app.waitForExit();
 * expect(app.messages).toEqual(['ready']);
 * ```
 */
export function startChild(command: readonly string[] | RuntimeCommand, options: StartChildOptions = {}): Child {
  const argv = Array.isArray(command) ? checkArgs('command', command) : [(command as RuntimeCommand).command, ...(command as RuntimeCommand).args];
  if (argv.length === 0 || argv[0] === '') throw new HarnessOptionError('command', command, 'a non-empty argv array or a RuntimeCommand');
  const commandEnv = Array.isArray(command) ? {} : (command as RuntimeCommand).env;
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...commandEnv, ...options.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const name = options.name ?? argv.join(' ');
  if (options.ipc !== undefined) check.boolean('ipc', options.ipc);

  installExitHook();
  const spawnedAt = performance.now();
  const stdio: StdioOptions = [options.stdin ?? 'ignore', 'pipe', 'pipe', ...(options.extraStdio ?? []), ...(options.ipc ? ['ipc' as const] : [])];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env, stdio });

  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines: string[] = [];
  const messages: unknown[] = [];
  child.on('message', (message) => messages.push(message));
  const lineListeners = new Set<() => void>();
  let firstKillAt: number | undefined;
  let exitStatus: ChildExit | undefined;
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
  child.stdin?.on('error', () => {}); // a write after the child died must not crash the test run

  const exited = new Promise<ChildExit>((resolve) => {
    let settled = false;
    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      const status: ChildExit = {
        code,
        signal,
        afterMs: Math.round(performance.now() - (firstKillAt ?? spawnedAt)),
        signalled: firstKillAt !== undefined,
      };
      // A grandchild may hold the pipes open; do not wait for them forever.
      let grace: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise((done) => {
        grace = setTimeout(done, STDIO_GRACE_MS);
      });
      void Promise.race([outputClosed, graceOver]).then(() => {
        clearTimeout(grace);
        exitStatus = status;
        notify();
        resolve(status);
      });
    };
    child.once('exit', settle);
    child.once('error', (error) => {
      // Spawn failure: 'exit' may never come.
      spawnError = error;
      stderr.push(`spawn error: ${error.message}`);
      lines.push(`spawn error: ${error.message}`);
      settle(null, null);
    });
  });
  const entry = { child, exited };
  liveChildren.add(entry);
  void exited.then(() => liveChildren.delete(entry));

  const running = (): boolean => exitStatus === undefined && child.exitCode === null && child.signalCode === null && spawnError === undefined;
  const kill = (signal: NodeJS.Signals = 'SIGTERM'): boolean => {
    if (!running()) return false;
    firstKillAt ??= performance.now();
    return child.kill(signal);
  };

  const output = { stdout, stderr };
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000, fromLine = 0): Promise<string> => {
    if (!(pattern instanceof RegExp)) return Promise.reject(new HarnessOptionError('pattern', pattern, 'a RegExp'));
    try {
      checkDuration('timeoutMs', timeoutMs);
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
        if (exitStatus !== undefined) {
          const how = exitStatus.signal ? `signal ${exitStatus.signal}` : `code ${exitStatus.code}`;
          done(() => reject(new LineTimeoutError(matcher, `${name} exited (${how}) first`, output)));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new LineTimeoutError(matcher, `${name} did not print it within ${timeoutMs} ms`, output))),
        timeoutMs,
      );
      const done = (finish: () => void): void => {
        clearTimeout(timer);
        lineListeners.delete(check);
        finish();
      };
      lineListeners.add(check);
      check();
    });
  };

  const waitForExit = (timeoutMs = 15_000): Promise<ChildExit> => {
    try {
      checkDuration('timeoutMs', timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name} did not exit within ${timeoutMs} ms.\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`)),
        timeoutMs,
      );
    });
    return Promise.race([exited, late]).finally(() => clearTimeout(timer));
  };

  return {
    process: child,
    pid: child.pid ?? -1,
    name,
    stdout,
    stderr,
    lines,
    messages,
    get exitStatus() {
      return exitStatus;
    },
    exited,
    waitForLine,
    waitForExit,
    kill,
    write(line: string): void {
      if (!child.stdin) throw new HarnessOptionError('stdin', options.stdin, '"pipe" to write to the child');
      if (running() && child.stdin.writable) child.stdin.write(`${line}\n`);
    },
    async stop(): Promise<ChildExit> {
      kill('SIGKILL');
      return exited;
    },
  };
}

/**
 * SIGKILLs every child started by {@link startChild} that still runs, with its descendants (a
 * supervisor's generations), and any `extra` pids with theirs; resolves once the children have
 * exited (or after 5 s). For `afterEach`/`afterAll`, so that no test leaves a process behind.
 *
 * @example
 * ```ts
 * afterEach(() => killAllChildren());
 * ```
 */
export async function killAllChildren(extra: Iterable<number> = []): Promise<void> {
  const pending = [...liveChildren];
  for (const { child } of pending) {
    if (child.pid !== undefined) killTree(child.pid);
    else child.kill('SIGKILL');
  }
  for (const pid of extra) killTree(pid);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(pending.map(({ exited }) => exited)),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 5_000);
    }),
  ]);
  clearTimeout(timer);
}
