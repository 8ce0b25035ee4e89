// Linux process-tree helpers (/proc) for tests of supervisors and restarts.
import { readFileSync, readdirSync } from 'node:fs';

/** The wrapper that makes LISTEN_PID the pid of the program it execs (systemd socket activation). */
export const LISTEN_PID_WRAPPER: readonly string[] = ['/bin/sh', '-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', 'sh'];

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

/** SIGKILLs `pid` and all its descendants (the whole tree is found first, then killed root first). */
export function killTree(pid: number): void {
  const all: number[] = [];
  const walk = (p: number): void => {
    for (const c of childPids(p)) {
      walk(c);
      all.push(c);
    }
  };
  if (process.platform === 'linux') walk(pid);
  for (const p of [pid, ...all]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
