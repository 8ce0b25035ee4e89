// Preload for part 2's Node servers (`node --import <this file>`): the CPU time the server spends
// from SIGTERM to its exit, which the machine's other work does not stretch the way it stretches
// wall time, and whether a young-generation GC ran in between (a scavenge costs ~3-4 ms there).
// Prints one line at exit: `shutdown-cpu <user+system ms> young-gc <yes|no>`. It only listens: its
// SIGTERM listener is prepended (so it reads the clock first) and does nothing else, and every
// server of the bench installs its own SIGTERM handling, so the default action never applies.
import { writeSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const youngUsed = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? 0;
let start;
process.prependListener('SIGTERM', () => {
  start ??= { cpu: process.cpuUsage(), young: youngUsed() };
});
process.on('exit', () => {
  if (!start) return;
  const { user, system } = process.cpuUsage(start.cpu);
  // The young generation only shrinks when a scavenge (or a full GC) emptied it.
  const gc = youngUsed() < start.young ? 'yes' : 'no';
  writeSync(1, `shutdown-cpu ${((user + system) / 1000).toFixed(2)} young-gc ${gc}\n`);
});
