// Server CPU time from /proc: steadier than requests/s when the load generator shares the cores.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let ticksPerSecond;

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicks() {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/**
 * CPU time the process has used so far, all threads, in ms: `statMs` is utime+stime from
 * /proc/<pid>/stat (clock-tick resolution, the figure the tables use; `userMs` and `sysMs` are the
 * two parts: a wrapper's cost is user time, the kernel's loopback work is sys) and `schedMs` the sum of the
 * threads' run time from /proc/<pid>/task/<tid>/schedstat (ns resolution, a cross-check; threads
 * that already exited are missing from it).
 */
export function cpuTime(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may contain spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const sysTicks = Number(fields[12]);
  const ticks = userTicks + sysTicks;
  let schedNs = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        schedNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between readdir and read.
      }
    }
  } catch {
    schedNs = Number.NaN;
  }
  const ms = 1000 / clockTicks();
  return { statMs: ticks * ms, userMs: userTicks * ms, sysMs: sysTicks * ms, schedMs: schedNs / 1e6 };
}
