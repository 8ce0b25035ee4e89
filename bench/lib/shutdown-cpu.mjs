// Preload for part 2's Node servers (`node --import <this file>`): the CPU time the server spends
// from SIGTERM to its exit, which the machine's other work does not stretch the way it stretches
// wall time, and the garbage collections in between (a scavenge there costs ~3-4 ms).
// Prints `shutdown-cpu-start` at SIGTERM and `shutdown-cpu <user+system ms>` at exit, and turns on
// V8's --trace-gc, whose lines between the two are the shutdown's collections (part 2 reads them).
// It only listens: its SIGTERM listener is prepended (so it reads the clock first) and does nothing
// else, and every server of the bench installs its own SIGTERM handling, so the default action
// never applies.
import { writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--trace-gc');
let start;
process.prependListener('SIGTERM', () => {
  if (start) return;
  writeSync(1, 'shutdown-cpu-start\n');
  start = process.cpuUsage();
});
process.on('exit', () => {
  if (!start) return;
  const { user, system } = process.cpuUsage(start);
  writeSync(1, `shutdown-cpu ${((user + system) / 1000).toFixed(2)}\n`);
});

