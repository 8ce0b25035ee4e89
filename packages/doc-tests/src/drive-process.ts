import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { type AddressInfo, type Server, connect, createServer } from 'node:net';

/** Terminal colour codes (ESC [ … m). */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** What to start. */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** How to drive it once started; see {@link driveProcess}. */
export interface DriveSteps {
  readonly port?: number | undefined;
  readonly ready?: RegExp | undefined;
  readonly get?: string | undefined;
  readonly signals: readonly NodeJS.Signals[];
  /** Signal the whole process group (a terminal's Ctrl-C), not only the process. */
  readonly toGroup?: boolean;
  /** Runs once it is up, after the GET and before the first signal (start a slow request, …). */
  readonly beforeSignals?: () => Promise<void>;
  readonly timeoutMs: number;
}

/** What happened. */
export interface ProcessOutcome {
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
  /** Both streams, in arrival order. */
  readonly lines: readonly string[];
  /** How it ended; `undefined` when it had to be killed at the time limit. */
  readonly exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined;
  /** Whether the port accepted / the ready line came before it exited. */
  readonly ready: boolean;
  readonly response: { readonly status: number; readonly body: string; readonly headers: Record<string, string | string[] | undefined> } | undefined;
  /** What went wrong on the harness's side (no answer, time limit); `undefined` when nothing did. */
  readonly problem: string | undefined;
}

/**
 * Starts a real process in its own process group and drives it like a user would: waits until it
 * is up (its port accepts, and/or a line matches `ready`), sends one GET, then each signal (the
 * next one once the process printed something new, or after 1 s), and waits for it to end. Without
 * a port or ready line, it waits for the process to end by itself. Everything is bounded by
 * `timeoutMs`: then the whole group is killed and `problem` says so. Any process left in the group
 * afterwards is killed too.
 */
export async function driveProcess(spec: ProcessSpec, steps: DriveSteps): Promise<ProcessOutcome> {
  const child = spawn(spec.command, [...spec.args], { cwd: spec.cwd, env: { ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid !== undefined) trackGroup(child.pid);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines: string[] = [];
  let changed = (): void => {};
  const collect = (stream: NodeJS.ReadableStream, into: string[]): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      // Colours (Deno colours numbers in console.log even without a terminal) are not text.
      const parts = (partial + text.replace(ANSI, '')).split(/\r?\n/);
      partial = parts.pop() ?? '';
      into.push(...parts);
      lines.push(...parts);
      changed();
    });
    stream.on('end', () => {
      if (partial !== '') {
        into.push(partial);
        lines.push(partial);
      }
      changed();
    });
  };
  collect(child.stdout, stdout);
  collect(child.stderr, stderr);
  let exit: ProcessOutcome['exit'];
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      lines.push(`(spawn failed: ${error.message})`);
      exit = { code: null, signal: null };
      resolve();
    });
  });
  // Output may trail the exit by a moment; the pipes close once every holder of them is gone.
  const outputDone = new Promise<void>((resolve) => {
    let open = 2;
    const done = (): void => {
      open -= 1;
      if (open === 0) resolve();
    };
    child.stdout.once('close', done);
    child.stderr.once('close', done);
  });
  const deadline = Date.now() + steps.timeoutMs;
  const remaining = (): number => Math.max(0, deadline - Date.now());
  const waitFor = (test: () => boolean, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (test()) return resolve(true);
      const timer = setTimeout(() => finish(false), ms);
      const poll = setInterval(() => test() && finish(true), 50);
      const previous = changed;
      changed = () => {
        previous();
        if (test()) finish(true);
      };
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        clearInterval(poll);
        changed = previous;
        resolve(value);
      };
    });

  let problem: string | undefined;
  let response: ProcessOutcome['response'];
  let ready = false;
  try {
    const waitsForSomething = steps.port !== undefined || steps.ready !== undefined;
    if (waitsForSomething) {
      const portUp = steps.port === undefined ? Promise.resolve(true) : waitForPort(steps.port, () => exit !== undefined, remaining());
      const lineUp = steps.ready === undefined ? Promise.resolve(true) : waitFor(() => exit !== undefined || lines.some((l) => steps.ready!.test(l)), remaining());
      const [p, l] = await Promise.all([portUp, lineUp]);
      ready = p && l && exit === undefined && (steps.ready === undefined || lines.some((line) => steps.ready!.test(line)));
      if (!ready && exit === undefined) problem = `not up within ${steps.timeoutMs} ms`;
    }
    if (ready && steps.get !== undefined) {
      try {
        response = await get(steps.port!, steps.get, Math.min(10_000, remaining()));
      } catch (error) {
        problem = `GET ${steps.get} failed: ${(error as Error).message}`;
      }
    }
    if (ready) {
      await steps.beforeSignals?.();
      for (const [i, signal] of steps.signals.entries()) {
        if (i > 0) {
          const seen = lines.length;
          await waitFor(() => lines.length > seen || exit !== undefined, 1_000);
        }
        if (exit !== undefined) break;
        try {
          process.kill(steps.toGroup ? -child.pid! : child.pid!, signal);
        } catch {
          // It exited in between.
        }
      }
    }
    const ended = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), remaining()).unref())]);
    if (!ended) problem ??= `did not exit within ${steps.timeoutMs} ms`;
  } finally {
    // Whatever is left of the group (a hung child, a grandchild): gone.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Nothing left.
    }
  }
  await exited;
  if (child.pid !== undefined) liveGroups.delete(child.pid);
  await Promise.race([outputDone, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
  return { stdout, stderr, lines, exit: problem?.startsWith('did not exit') ? undefined : exit, ready, response, problem };
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

/** Remembers a process group so that a test run that dies leaves no server behind (installed on first use, not at import). */
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const group of liveGroups) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** Polls a TCP connect to 127.0.0.1:`port` every 50 ms; false once `gone()` or after `ms`. */
async function waitForPort(port: number, gone: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until && !gone()) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** One GET on a fresh connection, bounded by `ms`. */
export function get(port: number, path: string, ms: number): Promise<NonNullable<ProcessOutcome['response']>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: ms }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ms} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A listening socket on `port` that another process's bind will collide with; close it after. */
export async function holdPort(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}
