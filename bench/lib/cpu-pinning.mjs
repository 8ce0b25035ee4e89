// Pinning processes to CPUs with taskset (util-linux), so that two servers compared side by side
// share one core and the load generator has the other.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

let available;

/** True when `taskset` runs here and there are at least two CPUs to split. */
export function canPin() {
  if (available === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      available = availableParallelism() >= 2;
    } catch {
      available = false;
    }
  }
  return available;
}

/** Pins every thread of `pid` (and the threads it starts later) to `cpu`. */
export function pinToCpu(pid, cpu) {
  execFileSync('taskset', ['-a', '-c', '-p', String(cpu), String(pid)], { stdio: 'ignore' });
}
