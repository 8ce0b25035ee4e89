import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PortHolder } from '../port-diagnosis.ts';

/** A process's scheduling state, named from the letter in /proc/<pid>/stat. */
export type ProcessState = 'running' | 'sleeping' | 'disk-sleep' | 'stopped' | 'tracing-stop' | 'zombie' | 'dead' | 'idle' | 'unknown';

/** What /proc says about one process (the fields a {@link PortHolder} reports), and its fds' close-on-exec. */
export type ProcProcess = Omit<PortHolder, 'pid' | 'command' | 'inheritedSocket'> & {
  /** Whether one of `fds` was open without close-on-exec (one that crossed an exec has none). */
  readonly withoutCloseOnExec: boolean | undefined;
};

const STATES: Readonly<Record<string, ProcessState>> = {
  R: 'running',
  S: 'sleeping',
  D: 'disk-sleep',
  T: 'stopped',
  t: 'tracing-stop',
  Z: 'zombie',
  X: 'dead',
  x: 'dead',
  I: 'idle',
};

/** Processes that adopt orphans: pid 1 by default, or a subreaper such as `systemd --user` or tini. */
const REAPERS = new Set(['systemd', 'init', 'tini', 'docker-init', 'dumb-init', 'catatonit', 'runit', 's6-svscan']);

/** O_CLOEXEC in /proc/<pid>/fdinfo/<fd> `flags:` (octal), on every Linux architecture Node runs on. */
const O_CLOEXEC = 0o2000000;

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ): 100 on every Linux architecture Node supports. */
const USER_HZ = 100;

interface Stat {
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  readonly startTicks: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function parseStat(text: string): Stat | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const [state, ppid, pgrp, session] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3])];
  const startTicks = Number(fields[19]);
  if (!state || !Number.isInteger(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { state, ppid, pgrp, session, startTicks };
}

const why = (error: unknown): string => (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error);

/**
 * Reads what makes a process keep a socket from `<procRoot>/<pid>/{stat,status,fdinfo}` and
 * `<procRoot>/uptime`: its state, parent, whether it is an orphan (its parent is pid 1 or a known
 * subreaper that did not fork it, told by its process group and session: the process that started
 * it has exited), its age, and whether `fds` lack close-on-exec.
 */
export async function readProcProcess(procRoot: string, pid: number, fds: readonly number[], command: (pid: number) => Promise<string>): Promise<ProcProcess> {
  const unreadable: string[] = [];
  const read = async (path: string): Promise<string | undefined> => {
    try {
      return await readFile(join(procRoot, path), 'utf8');
    } catch (error) {
      unreadable.push(`${join(procRoot, path)} (${why(error)})`);
      return undefined;
    }
  };
  const [statText, statusText, uptimeText] = await Promise.all([read(`${pid}/stat`), read(`${pid}/status`), read('uptime')]);
  const stat = statText === undefined ? undefined : parseStat(statText);
  const state = stat ? (STATES[stat.state] ?? 'unknown') : undefined;
  const tracer = statusText === undefined ? undefined : Number(/^TracerPid:\s*(\d+)/m.exec(statusText)?.[1]);
  const uptime = uptimeText === undefined ? undefined : Number(uptimeText.split(' ')[0]);
  const ageMs = stat && uptime !== undefined && Number.isFinite(uptime) ? Math.max(0, Math.round((uptime - stat.startTicks / USER_HZ) * 1_000)) : undefined;

  let parentCommand: string | undefined;
  let orphan: boolean | undefined;
  if (stat && stat.ppid > 0) {
    parentCommand = await command(stat.ppid);
    const parentName = (await read(`${stat.ppid}/comm`))?.trim();
    const adopter = stat.ppid === 1 || (parentName !== undefined && REAPERS.has(parentName));
    // A child forked by its parent starts in the parent's process group, or leads its own (a shell
    // job, a daemon). In a group led by another process, that is not its parent: the parent that
    // forked it is gone. Leading its own group, its session tells (a job of a shell that exited).
    orphan = adopter && (stat.pgrp !== pid ? stat.pgrp !== stat.ppid : stat.session !== pid && stat.session !== stat.ppid);
  } else if (stat) {
    orphan = false; // pid 1 itself, or a kernel thread
  }

  let withoutCloseOnExec: boolean | undefined;
  if (fds.length > 0) {
    const infos = await Promise.all(fds.map((fd) => read(`${pid}/fdinfo/${fd}`)));
    const flags = infos.map((info) => (info === undefined ? undefined : /^flags:\s*([0-7]+)/m.exec(info)?.[1]));
    withoutCloseOnExec = flags.every((f) => f !== undefined) ? flags.some((f) => (Number.parseInt(f!, 8) & O_CLOEXEC) === 0) : undefined;
  }
  return {
    state,
    ppid: stat?.ppid,
    parentCommand,
    orphan,
    ageMs,
    tracerPid: tracer !== undefined && Number.isFinite(tracer) && tracer > 0 ? tracer : undefined,
    withoutCloseOnExec,
    unreadable,
  };
}
