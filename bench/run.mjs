#!/usr/bin/env node
// Runs every part in turn (`npm run bench`), each in its own Node process, then writes the charts and
// rewrites the results section of bench/README.md from bench/results/*.json (report.mjs --write).
//   node bench/run.mjs [--smoke] [--only=1,2,…] [--runtimes=node,bun,deno] [--lines=all|default|20,22,…]
// The parts are the files bench/<n>-<name>.mjs, found by name: a new part is a new file (it takes
// --smoke, --runtimes and --lines through lib/cli.mjs, writes its result with lib/results.mjs, and
// exits 1 when a correctness check fails). Prints how long each part took.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = new URL('./', import.meta.url);
const parts = readdirSync(here)
  .map((file) => /^(\d+)-[a-z0-9-]+\.mjs$/.exec(file))
  .filter(Boolean)
  .map(([file, id]) => ({ id, file }))
  .sort((a, b) => Number(a.id) - Number(b.id) || a.file.localeCompare(b.file));

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const passOn = args.filter((a) => a === '--smoke' || a.startsWith('--runtimes=') || a.startsWith('--lines='));
const unknown = args.filter((a) => !passOn.includes(a) && !a.startsWith('--only='));
if (unknown.length > 0) {
  console.error(`run.mjs: unknown argument(s) ${unknown.join(' ')}; use --smoke, --only=1,2,…, --runtimes=node,bun,deno and --lines=all|default|20,22,….`);
  process.exit(2);
}
const missing = only?.filter((id) => !parts.some((p) => p.id === id)) ?? [];
if (missing.length > 0) {
  console.error(`run.mjs: no part ${missing.join(', ')}; parts: ${parts.map((p) => p.id).join(', ')}`);
  process.exit(2);
}

const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;
const failed = [];
const times = [];
const started = performance.now();
for (const { id, file } of parts) {
  if (only && !only.includes(id)) continue;
  console.log(`\n=== ${file} ${passOn.join(' ')}`);
  const t0 = performance.now();
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(file, here)), ...passOn], { stdio: 'inherit' });
  times.push(`${file} ${seconds(performance.now() - t0)}${result.status === 0 ? '' : ` (exit ${result.status ?? result.signal})`}`);
  if (result.status !== 0) failed.push(`${file} (exit ${result.status ?? result.signal})`);
}
// The README shows full runs only: a smoke run leaves it (and the committed charts) alone.
if (!passOn.includes('--smoke')) spawnSync(process.execPath, [fileURLToPath(new URL('report.mjs', here)), '--write'], { stdio: 'inherit' });
console.log(`\nbench: ${times.join(', ')}; total ${seconds(performance.now() - started)}`);
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
