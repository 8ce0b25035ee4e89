import { type Child, type ChildExit, startChild, withoutStatefulFlags } from './child.ts';
import { HarnessOptionError, ServerStartError } from './errors.ts';
import { type Runtime, runtimeCommand } from './runtimes.ts';
import { checkArgs, checkDuration, checkEnv, checkString } from './validate.ts';

/** Options for {@link startServer}. */
export interface StartServerOptions {
  /** The runtime to run the script on (`node` is the Node under test: see `nodeUnderTest()`). */
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
export type ServerExit = ChildExit;

/** A running server child process, ready to take requests; see {@link startServer}. */
export interface ServerHandle extends Pick<Child, 'pid' | 'stdout' | 'stderr' | 'lines' | 'exitStatus' | 'exited' | 'kill' | 'stop'> {
  readonly runtime: Runtime;
  /** The URL from the ready line, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Host name from {@link ServerHandle.url} (IPv6 without brackets). */
  readonly host: string;
  /** Port from {@link ServerHandle.url}: the real port even when `PORT=0` was asked. */
  readonly port: number;
  /** As {@link Child.waitForLine}, with a default timeout of 5 000 ms. */
  waitForLine(pattern: RegExp, timeoutMs?: number, fromLine?: number): Promise<string>;
}

const DEFAULT_READY = /listening on (http:\/\/\S+)/;

/**
 * Spawns a server script as a real child process on `runtime`, collects its output line by line and
 * resolves once a line matches `readyPattern`, with a handle holding the URL and port it printed.
 * Rejects with {@link ServerStartError} (holding the output) if the child fails to spawn, exits
 * first, prints no usable URL, or is not ready within `timeoutMs`; the child is killed then.
 * Every child is tracked until it exits; call `killAllChildren()` in `afterAll`.
 *
 * @example
 * ```ts
 * const server = await startServer({ runtime: 'deno', script: fixturePath('plain-server.mjs') });
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

  const ready = withoutStatefulFlags(readyPattern);
  const child = startChild(command, {
    env: { PORT: '0', HOST: '127.0.0.1', ...env },
    ...(cwd === undefined ? {} : { cwd }),
    name: `${runtime} ${script}`,
  });
  const fail = (reason: ServerStartError['reason'], detail: string, cause?: unknown): never => {
    child.kill('SIGKILL');
    throw new ServerStartError(reason, detail, { stdout: child.stdout, stderr: child.stderr, pid: child.process.pid }, { cause });
  };

  return child.waitForLine(ready, timeoutMs).then(
    (line) => {
      const match = ready.exec(line)!;
      const text = match[1] ?? match[0];
      let url: URL;
      try {
        url = new URL(text);
      } catch (error) {
        return fail('url', `the ready line ${JSON.stringify(line)} holds no URL (got ${JSON.stringify(text)})`, error);
      }
      const handle: ServerHandle = {
        runtime,
        pid: child.pid,
        url: url.origin,
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
        stdout: child.stdout,
        stderr: child.stderr,
        lines: child.lines,
        get exitStatus() {
          return child.exitStatus;
        },
        waitForLine: (pattern, lineTimeoutMs = 5_000, fromLine = 0) => child.waitForLine(pattern, lineTimeoutMs, fromLine),
        kill: child.kill,
        exited: child.exited,
        stop: child.stop,
      };
      return handle;
    },
    (error: unknown) => {
      const status = child.exitStatus;
      if (status === undefined) return fail('timeout', `no line matched ${ready} within ${timeoutMs} ms (${runtime} ${script})`, error);
      if (child.pid === -1 || child.stderr.some((line) => line.startsWith('spawn error: '))) {
        return fail('spawn', `could not spawn ${command.command}: ${child.stderr.join(' ')}`, error);
      }
      const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
      return fail('exited', `the ${runtime} process exited (${how}) before printing a line matching ${ready}`, error);
    },
  );
}
