#!/usr/bin/env node
// Runs every part in turn (`npm run bench`), each in its own Node process, then rewrites the
// results section of bench/README.md from bench/results/*.json.
//   node bench/run.mjs [--smoke] [--only=1,2,3,4,6,7] [--runtimes=node,bun,deno]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const parts = [
  ['1', '1-overhead.mjs'],
  ['2', '2-shutdown-latency.mjs'],
  ['3', '3-scale-memory.mjs'],
  ['4', '4-keep-alive-race.mjs'],
  ['5', '5-restarts-under-load.mjs'],
  ['6', '6-rolling-restart.mjs'],
  ['7', '7-websocket-shutdown.mjs'],
];
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const passOn = args.filter((a) => a === '--smoke' || a.startsWith('--runtimes='));
const unknown = args.filter((a) => !passOn.includes(a) && !a.startsWith('--only='));
if (unknown.length > 0) {
  console.error(`run.mjs: unknown argument(s) ${unknown.join(' ')}; use --smoke, --only=1,2,… and --runtimes=node,bun,deno.`);
  process.exit(2);
}

const failed = [];
for (const [id, file] of parts) {
  if (only && !only.includes(id)) continue;
  // Part 6 has no runtime choice (the example app on Node).
  const flags = id === '6' || id === '5' ? passOn.filter((a) => a === '--smoke') : passOn;
  console.log(`\n=== ${file} ${flags.join(' ')}`);
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), ...flags], { stdio: 'inherit' });
  if (result.status !== 0) failed.push(`${file} (exit ${result.status ?? result.signal})`);
}
spawnSync(process.execPath, [fileURLToPath(new URL('report.mjs', import.meta.url)), '--write'], { stdio: 'inherit' });
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
