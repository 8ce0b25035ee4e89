// Helpers for tests that start real child processes with real sockets. Test-only.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file in src/fixtures/. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** The wrapper that makes LISTEN_PID the pid of the program it execs. */
export const LISTEN_PID_WRAPPER: readonly string[] = ['/bin/sh', '-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', 'sh'];

/** A child process with its output collected line by line. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly lines: string[];
  /** Resolves with the first line matching `pattern`; rejects after `timeoutMs` (default 15 s) or at exit. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();

/** Spawns `command` with `stdio` beyond 0–2 as given; stdout and stderr are collected. */
export function startChild(command: readonly string[], options: { env?: Record<string, string | undefined>; extraStdio?: (number | 'pipe' | 'ignore')[] } = {}): Child {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe', ...(options.extraStdio ?? [])], env });
  children.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let done = false;
  const collect = (stream: NodeJS.ReadableStream | null, into: string[]): void => {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      into.push(...parts);
      lines.push(...parts);
      for (const listener of [...listeners]) listener();
    });
  };
  collect(child.stdout, stdout);
  collect(child.stderr, stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      // Let the last output arrive.
      setTimeout(() => {
        done = true;
        for (const listener of [...listeners]) listener();
        resolve({ code, signal });
      }, 100);
    });
  });
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = lines.find((l) => pattern.test(l));
        if (line !== undefined) finish(() => resolve(line));
        else if (done) finish(() => reject(new Error(`exited before printing ${pattern}; output:\n${lines.join('\n')}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no line matched ${pattern} within ${timeoutMs} ms; output:\n${lines.join('\n')}`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });
  return { process: child, pid: child.pid ?? -1, stdout, stderr, lines, waitForLine, exited };
}

/** The direct children of `pid`, from /proc/<n>/stat. */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** The state letter of `pid` (`Z` for a zombie), or `undefined` if it is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** SIGKILLs `pid` and all its descendants (children first found, then the root). */
export function killTree(pid: number): void {
  const all: number[] = [];
  const walk = (p: number): void => {
    for (const c of childPids(p)) {
      walk(c);
      all.push(c);
    }
  };
  walk(pid);
  for (const p of [pid, ...all]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kills every child started with {@link startChild} (and their descendants) and any extra pids. */
export async function killAll(extra: Iterable<number> = []): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of [...children]) {
    if (child.pid) killTree(child.pid);
    waits.push(new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve))));
  }
  for (const pid of extra) killTree(pid);
  await Promise.race([Promise.all(waits), new Promise((resolve) => setTimeout(resolve, 5_000))]);
}

/** A TCP server listening on 127.0.0.1 (any port) that accepts nothing on its own. */
export async function listeningSocket(port = 0): Promise<{ server: Server; port: number; fd: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return { server, port: (server.address() as AddressInfo).port, fd };
}

/** GET `path` on 127.0.0.1:`port` with a fresh connection; resolves with status, body and x-pid. */
export function get(port: number, path = '/'): Promise<{ status: number; body: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, pid: Number(res.headers['x-pid']) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `test` every 50 ms until it is true; throws after `timeoutMs`. */
export async function until(test: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const limit = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > limit) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
