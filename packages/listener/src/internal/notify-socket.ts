import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import type { Clock } from '@quiesce/core';
import { currentRuntime } from './runtime.ts';

/*
 * How a message reaches the service manager's NOTIFY_SOCKET (an AF_UNIX datagram socket) without
 * a native add-on:
 * - Deno with --unstable-net has AF_UNIX datagram sockets (`Deno.listenDatagram`, transport
 *   "unixpacket", which is SOCK_DGRAM): the message leaves from this process, so systemd's default
 *   NotifyAccess=main accepts it. The socket is bound to an abstract name (leading NUL), so
 *   nothing is left in the file system.
 * - Node has no AF_UNIX datagram socket (node:dgram does udp4/udp6 only), nor has Bun (its
 *   udpSocket is UDP only): they run `systemd-notify VAR=VALUE…`, one at a time so the messages
 *   keep their order. systemd-notify waits (a barrier) until systemd has read the message, so
 *   systemd can still tell which unit it came from. As root it sends with this process's pid as
 *   the sender (SCM_CREDENTIALS may name another pid with CAP_SYS_ADMIN); unprivileged it sends
 *   as itself, which only NotifyAccess=all accepts: the unit files say NotifyAccess=all.
 */

/** How messages leave: `datagram` (from this process) or `systemd-notify` (a child process). */
export type NotifyTransport = 'datagram' | 'systemd-notify';

/** Options for {@link openNotifySocket}. */
export interface NotifySocketOptions {
  /** NOTIFY_SOCKET: a path, or `@name` for an abstract socket. */
  readonly address: string;
  /** The environment systemd-notify runs with (it reads NOTIFY_SOCKET from it). */
  readonly env: Record<string, string | undefined>;
  readonly clock: Clock;
  /** Receives the one report of a failure. */
  readonly report: (line: string) => void;
}

/** An open way to NOTIFY_SOCKET; see {@link openNotifySocket}. */
export interface NotifySocket {
  readonly transport: NotifyTransport;
  /**
   * Queues one message (its `VAR=VALUE` lines); messages leave in order. A message of only
   * STATUS=, EXTEND_TIMEOUT_USEC= and WATCHDOG=1 merges into such a message still waiting, the later
   * values winning, so a burst of statuses costs one send. Never throws.
   */
  send(lines: readonly string[]): void;
  /** Whether `line` is in a message still waiting to leave. */
  queued(line: string): boolean;
  /** Resolves once every queued message has left (or failed). */
  flush(): Promise<void>;
  /** Sends what is queued, then closes. Later sends are dropped. */
  close(): Promise<void>;
}

/** A hung systemd-notify is killed after this long (its own barrier gives up after 5 s). */
const SYSTEMD_NOTIFY_TIMEOUT_MS = 10_000;

interface DenoDatagramConn {
  send(data: Uint8Array, address: { transport: 'unixpacket'; path: string }): Promise<number>;
  close(): void;
}
interface DenoNamespace {
  listenDatagram?: (options: { transport: 'unixpacket'; path: string }) => DenoDatagramConn;
  pid: number;
}

/** Opens the way to NOTIFY_SOCKET this runtime offers: a datagram socket where it has one, else systemd-notify. */
export function openNotifySocket(options: NotifySocketOptions): NotifySocket {
  const { address, clock } = options;
  let reported = false;
  const report = (why: string): void => {
    if (reported) return;
    reported = true;
    options.report(
      `quiesce: cannot notify the service manager at NOTIFY_SOCKET=${address}: ${why}. Serving and shutdown go on; the service manager may not see readiness, status or watchdog pings (reported once).`,
    );
  };
  let datagram = openDatagram(address);
  const transport = (): NotifyTransport => (datagram ? 'datagram' : 'systemd-notify');
  // Messages waiting; the one on its way has left the queue.
  const queue: string[][] = [];
  let pumping: Promise<void> | undefined;
  let closed = false;

  const sendWithSystemdNotify = (lines: readonly string[]): Promise<void> =>
    new Promise((resolve) => {
      let stderr = '';
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn('systemd-notify', [...lines], { stdio: ['ignore', 'ignore', 'pipe'], env: cleanEnv(options.env) });
      } catch (error) {
        // Deno without --allow-run throws here.
        report(`systemd-notify cannot be run (${(error as Error).message}); on Deno allow it (--allow-run=systemd-notify) or use --unstable-net`);
        resolve();
        return;
      }
      const timer = clock.setTimeout(() => child.kill('SIGKILL'), SYSTEMD_NOTIFY_TIMEOUT_MS);
      unrefTimer(timer);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        if (stderr.length < 1_000) stderr += text;
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        clock.clearTimeout(timer);
        report(
          error.code === 'ENOENT'
            ? 'systemd-notify is not installed or not in PATH (it comes with systemd; on Deno, --unstable-net sends without it)'
            : `systemd-notify could not be started (${error.message})`,
        );
        resolve();
      });
      child.once('close', (code, signal) => {
        clock.clearTimeout(timer);
        if (code !== 0) {
          const why = stderr.trim().split('\n')[0] || (signal ? `killed by ${signal}` : `exit code ${code}`);
          report(`systemd-notify failed: ${why}`);
        }
        resolve();
      });
    });

  const sendOne = async (lines: readonly string[]): Promise<void> => {
    if (datagram) {
      try {
        await datagram.send(lines);
        return;
      } catch (error) {
        if (!isPermissionError(error)) {
          report(`sending failed (${(error as Error).message})`);
          return;
        }
        // Deno without --allow-write for the socket: systemd-notify may still be allowed.
        datagram.close();
        datagram = undefined;
      }
    }
    await sendWithSystemdNotify(lines);
  };

  const pump = (): Promise<void> => {
    pumping ??= (async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await sendOne(next);
      pumping = undefined;
    })();
    return pumping;
  };

  return {
    get transport() {
      return transport();
    },
    send(lines) {
      if (closed) return;
      const last = queue.at(-1);
      if (last && mergeable(last) && mergeable(lines)) queue[queue.length - 1] = merge(last, lines);
      else queue.push([...lines]);
      void pump();
    },
    queued(line) {
      return queue.some((message) => message.includes(line));
    },
    flush() {
      return pumping ?? Promise.resolve();
    },
    async close() {
      closed = true;
      await (pumping ?? Promise.resolve());
      datagram?.close();
      datagram = undefined;
    },
  };
}

/** A Deno datagram socket to `address`, or `undefined` where the runtime has none or may not bind one. */
function openDatagram(address: string): { send(lines: readonly string[]): Promise<void>; close(): void } | undefined {
  const deno = (globalThis as { Deno?: DenoNamespace }).Deno;
  if (typeof deno?.listenDatagram !== 'function') return undefined;
  if (!address.startsWith('/') && !address.startsWith('@')) return undefined; // vsock: and others: systemd-notify knows them
  let conn: DenoDatagramConn;
  try {
    // An abstract name (leading NUL): nothing in the file system to clean up.
    conn = deno.listenDatagram({ transport: 'unixpacket', path: `\0quiesce-notify-${deno.pid}-${Math.random().toString(36).slice(2)}` });
  } catch {
    return undefined; // no --allow-net for it: try systemd-notify
  }
  const target = address.startsWith('@') ? `\0${address.slice(1)}` : address;
  const encoder = new TextEncoder();
  return {
    async send(lines) {
      await conn.send(encoder.encode(lines.join('\n')), { transport: 'unixpacket', path: target });
    },
    close() {
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

/** Keys whose message can merge with a neighbour: they carry no state change whose order matters. */
const MERGEABLE = new Set(['STATUS', 'EXTEND_TIMEOUT_USEC', 'WATCHDOG']);
const keyOf = (line: string): string => line.slice(0, line.indexOf('='));
const mergeable = (lines: readonly string[]): boolean => lines.every((line) => MERGEABLE.has(keyOf(line)));

/** One message with the keys of both; `later`'s values win (systemd reads only the first of a key). */
function merge(earlier: readonly string[], later: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const line of [...earlier, ...later]) byKey.set(keyOf(line), line);
  return [...byKey.values()];
}

function isPermissionError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'NotCapable' || name === 'PermissionDenied';
}

/** The environment for systemd-notify: only defined values (Deno refuses `undefined` ones). */
function cleanEnv(env: Record<string, string | undefined>): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) clean[key] = value;
  return clean;
}

/** Lets a timer of the system clock not keep the process alive (a ManualClock's has nothing to unref). */
export function unrefTimer(handle: unknown): void {
  if (handle !== null && typeof handle === 'object' && typeof (handle as { unref?: unknown }).unref === 'function') {
    (handle as { unref(): void }).unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof handle === 'number' && typeof deno?.unrefTimer === 'function') deno.unrefTimer(handle);
}

/**
 * CLOCK_MONOTONIC in µs, for MONOTONIC_USEC=. Node's `process.hrtime` reads CLOCK_MONOTONIC; Bun's
 * and Deno's count from the process start, so there it is read from /proc/uptime (CLOCK_BOOTTIME,
 * 10 ms steps), rounded up: never below CLOCK_MONOTONIC, which is what systemd compares it with
 * (a RELOADING=1 stamped before the reload request would be taken for a stale one).
 */
export function monotonicMicros(): bigint | undefined {
  if (currentRuntime().name === 'node') return process.hrtime.bigint() / 1_000n;
  try {
    const seconds = /^(\d+)\.(\d{2})/.exec(readFileSync('/proc/uptime', 'utf8'));
    if (!seconds) return undefined;
    return (BigInt(seconds[1]!) * 100n + BigInt(seconds[2]!) + 1n) * 10_000n;
  } catch {
    return undefined;
  }
}
