import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { runtimePermits } from '@quiesce/core';
import { parseProcNetTcp } from './proc-net.ts';

/** One socket inherited by the systemd protocol. */
export interface InheritedSocket {
  readonly fd: number;
  readonly name: string;
}

/** What this process was handed, read once per environment object. */
export interface ListenEnv {
  readonly listeners: readonly InheritedSocket[];
  /** The fd to write `READY=1` to (set by `quiesce run` and hot restart), if any. */
  readonly readyFd: number | undefined;
  /** The pid of the `quiesce run` supervisor this process runs under, if any. */
  readonly supervisorPid: number | undefined;
  /** The fd of the channel on which the starter asks this process to stop (`STOP=restart`), if any; unset once closed. */
  controlFd: number | undefined;
  /** Inherited fds already adopted by `acquire()`. */
  readonly adopted: Set<number>;
  readyReported: boolean;
}

/** First fd of passed sockets (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;
/** A sanity bound on LISTEN_FDS; no real service inherits more. */
const MAX_LISTEN_FDS = 1024;
/** The variables this protocol uses; all are removed after reading, so our children never see them. */
export const LISTEN_VARIABLES: readonly string[] = [
  'LISTEN_FDS',
  'LISTEN_PID',
  'LISTEN_FDNAMES',
  'QUIESCE_READY_FD',
  'QUIESCE_SUPERVISOR_PID',
  'QUIESCE_CONTROL_FD',
];

const cache = new WeakMap<object, ListenEnv>();

/**
 * Whether /proc may be read to check inherited fds: it exists, and the runtime permits reading it
 * (Deno without `--allow-read=/proc` does not; the fds are then left for `listen()` to judge, as
 * where there is no /proc).
 */
function procReadable(): boolean {
  return runtimePermits({ name: 'read', path: '/proc' }) && existsSync('/proc/self/fd');
}

/** What `/proc/self/fd/<fd>` points to (`socket:[…]`, `pipe:[…]`); `null` if it is not open; `undefined` without /proc. */
function fdTarget(fd: number): string | null | undefined {
  if (!procReadable()) return undefined;
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/**
 * Inodes of listening stream sockets (TCP LISTEN, unix with __SO_ACCEPTCON) and of every other
 * socket this network namespace shows, from /proc/net. `undefined` when /proc/net cannot be read.
 */
function socketCensus(): { listening: Set<number>; known: Set<number> } | undefined {
  const listening = new Set<number>();
  const known = new Set<number>();
  let readAny = false;
  for (const [file, family] of [
    ['tcp', 'IPv4'],
    ['tcp6', 'IPv6'],
  ] as const) {
    try {
      for (const row of parseProcNetTcp(readFileSync(`/proc/net/${file}`, 'utf8'), family)) {
        known.add(row.inode);
        if (row.state === 'LISTEN') listening.add(row.inode);
      }
      readAny = true;
    } catch {
      // no IPv6, or no /proc
    }
  }
  try {
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 7) continue;
      const inode = Number(fields[6]);
      known.add(inode);
      // __SO_ACCEPTCON: the socket is listening.
      if ((Number.parseInt(fields[3]!, 16) & 0x10000) !== 0) listening.add(inode);
    }
    readAny = true;
  } catch {
    // no /proc
  }
  return readAny ? { listening, known } : undefined;
}

function empty(): ListenEnv {
  return { listeners: [], readyFd: undefined, supervisorPid: undefined, controlFd: undefined, adopted: new Set(), readyReported: false };
}

/**
 * Reads LISTEN_FDS / LISTEN_PID / LISTEN_FDNAMES (sd_listen_fds(3)) and Quiesce's QUIESCE_READY_FD /
 * QUIESCE_SUPERVISOR_PID from `env`, removes them all, and trusts them only when LISTEN_PID is `pid`
 * and every fd is an open socket. Anything else is ignored with one warning line. The result is
 * remembered per `env` object, so later calls (after the variables are gone) get the same answer.
 * A variable `permitted` refuses (Deno without `--allow-env` for it) is neither read nor removed,
 * as if unset, and one line says which were skipped and which flag reads them.
 */
export function readListenEnv(
  env: Record<string, string | undefined>,
  pid: number,
  warn: (line: string) => void,
  permitted: (name: string) => boolean = () => true,
): ListenEnv {
  const known = cache.get(env);
  if (known) return known;
  const readable = LISTEN_VARIABLES.filter((name) => permitted(name));
  if (readable.length < LISTEN_VARIABLES.length) {
    const skipped = LISTEN_VARIABLES.filter((name) => !readable.includes(name));
    warn(
      `quiesce: no env access to ${skipped.join(', ')} (Deno), so inherited sockets (quiesce run, systemd) ` +
        `and readiness reporting are off; to use them, run with --allow-env=${LISTEN_VARIABLES.join(',')}`,
    );
  }
  const get = (name: string): string | undefined => (readable.includes(name) ? env[name] : undefined);
  const raw = {
    fds: get('LISTEN_FDS'),
    pid: get('LISTEN_PID'),
    names: get('LISTEN_FDNAMES'),
    ready: get('QUIESCE_READY_FD'),
    supervisor: get('QUIESCE_SUPERVISOR_PID'),
    control: get('QUIESCE_CONTROL_FD'),
  };
  for (const name of readable) if (name in env) delete env[name];
  const result = parse(raw, pid, warn);
  cache.set(env, result);
  return result;
}

function parse(
  raw: { fds?: string; pid?: string; names?: string; ready?: string; supervisor?: string; control?: string },
  pid: number,
  warn: (line: string) => void,
): ListenEnv {
  const ignore = (why: string): ListenEnv => {
    warn(`quiesce: ignoring inherited sockets: ${why}`);
    return empty();
  };
  if (raw.fds === undefined && raw.pid === undefined) {
    if (raw.ready !== undefined || raw.names !== undefined) return ignore('QUIESCE_READY_FD or LISTEN_FDNAMES is set without LISTEN_FDS and LISTEN_PID.');
    return empty();
  }
  if (raw.pid === undefined) return ignore(`LISTEN_FDS=${JSON.stringify(raw.fds)} comes without LISTEN_PID, so it cannot be for this process.`);
  if (!/^\d+$/.test(raw.pid)) return ignore(`LISTEN_PID=${JSON.stringify(raw.pid)} is not a process id.`);
  if (Number(raw.pid) !== pid) {
    return ignore(`LISTEN_PID=${raw.pid} is not this process (pid ${pid}); the sockets were meant for another one.`);
  }
  if (raw.fds === undefined) return ignore('LISTEN_PID is set without LISTEN_FDS.');
  if (!/^\d+$/.test(raw.fds) || Number(raw.fds) > MAX_LISTEN_FDS) {
    return ignore(`LISTEN_FDS=${JSON.stringify(raw.fds)} is not a count of sockets (0 to ${MAX_LISTEN_FDS}).`);
  }
  const count = Number(raw.fds);
  const fds = Array.from({ length: count }, (_, i) => LISTEN_FDS_START + i);
  let census: ReturnType<typeof socketCensus> | null = null;
  for (const fd of fds) {
    const target = fdTarget(fd);
    if (target === null) return ignore(`LISTEN_FDS=${count} but fd ${fd} is not open.`);
    if (target === undefined) continue;
    if (!target.startsWith('socket:')) return ignore(`LISTEN_FDS=${count} but fd ${fd} is not a socket (${target}).`);
    census ??= socketCensus();
    const inode = Number(/\d+/.exec(target)?.[0]);
    // A socket /proc/net does not show (UDP, another namespace) is left for listen() to judge.
    if (census?.known.has(inode) && !census.listening.has(inode)) {
      return ignore(`LISTEN_FDS=${count} but fd ${fd} is a socket that is not listening.`);
    }
  }
  let names = fds.map(() => 'unknown');
  if (raw.names !== undefined) {
    const given = raw.names.split(':');
    if (given.length === count && given.every((name) => name !== '')) names = given;
    else warn(`quiesce: LISTEN_FDNAMES=${JSON.stringify(raw.names)} does not name ${count} socket(s); using "unknown" for each.`);
  }
  let readyFd: number | undefined;
  if (raw.ready !== undefined) {
    const fd = Number(raw.ready);
    const target = /^\d+$/.test(raw.ready) && fd >= LISTEN_FDS_START && !fds.includes(fd) ? fdTarget(fd) : null;
    if (target === null || (target !== undefined && !/^(socket|pipe):/.test(target))) {
      warn(`quiesce: ignoring QUIESCE_READY_FD=${JSON.stringify(raw.ready)}: not an open pipe or socket apart from the listeners; readiness will not be reported.`);
    } else readyFd = fd;
  }
  let controlFd: number | undefined;
  if (raw.control !== undefined) {
    const fd = Number(raw.control);
    const target = /^\d+$/.test(raw.control) && fd >= LISTEN_FDS_START && !fds.includes(fd) && fd !== readyFd ? fdTarget(fd) : null;
    if (target === null || (target !== undefined && !target.startsWith('socket:'))) {
      warn(`quiesce: ignoring QUIESCE_CONTROL_FD=${JSON.stringify(raw.control)}: not an open socket apart from the listeners and the readiness pipe; a restart will look like a shutdown.`);
    } else controlFd = fd;
  }
  let supervisorPid: number | undefined;
  if (raw.supervisor !== undefined) {
    if (/^\d+$/.test(raw.supervisor) && Number(raw.supervisor) > 0) supervisorPid = Number(raw.supervisor);
    else warn(`quiesce: ignoring QUIESCE_SUPERVISOR_PID=${JSON.stringify(raw.supervisor)}: not a process id.`);
  }
  return {
    listeners: fds.map((fd, i) => Object.freeze({ fd, name: names[i]! })),
    readyFd,
    supervisorPid,
    controlFd,
    adopted: new Set(),
    readyReported: false,
  };
}
