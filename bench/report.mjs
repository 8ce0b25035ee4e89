#!/usr/bin/env node
// Renders the full runs' bench/results/<part>.json as Markdown (`--mode=smoke|custom`: the latest
// run of that kind, <part>.<mode>.json): prints it, and with --write replaces the section of
// bench/README.md between the `results:start` and `results:end` markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { readResults } from './lib/results.mjs';
import { markdownTable } from './lib/table.mjs';

const titles = {
  overhead: 'Part 1 — overhead (hello world, CPU per request)',
  'shutdown-latency': 'Part 2 — shutdown latency',
  'scale-memory': 'Part 3 — scale and memory',
  'keep-alive-race': 'Part 4 — the keep-alive race',
  restarts: 'Part 5 — restarts under load',
  'rolling-restart': 'Part 6 — rolling restart behind HAProxy (replace)',
  'rolling-restart-restart': 'Part 6 — rolling restart behind HAProxy (restart in place)',
  'websocket-shutdown': 'Part 7 — shutdown latency with 1 000 open WebSockets',
};
const order = Object.keys(titles);

function section(result) {
  const v = result.versions ?? {};
  const m = result.machine ?? {};
  const label =
    result.mode === 'full'
      ? 'full run'
      : result.mode === 'smoke'
        ? '**smoke run (tiny counts, shared machine): not final figures**'
        : '**short run (custom settings below, shared machine): not final figures**';
  const lines = [
    `### ${titles[result.name] ?? result.name}`,
    '',
    `${label}; ${result.date.slice(0, 16).replace('T', ' ')} UTC; ${m.cores} cores (${m.cpu}), load average at start ${m.loadAverageAtStart?.join(' ')}; ` +
      `node ${v.node}${result.name === 'rolling-restart' || result.name.startsWith('rolling') ? `, haproxy ${v.haproxy ?? result.settings?.haproxy}` : `, bun ${v.bun}, deno ${v.deno}`}` +
      `${result.commit ? `; commit ${result.commit}` : ''}. Settings: \`${JSON.stringify(result.settings)}\`.`,
    '',
    markdownTable(result.columns, result.rows),
  ];
  if (result.notes?.length) lines.push('', ...result.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

// Full runs are the README's; `--mode=smoke` or `--mode=custom` prints the latest run of that kind.
const modeArg = process.argv.find((a) => a.startsWith('--mode='));
const mode = modeArg ? modeArg.slice('--mode='.length) : 'full';
if (!['full', 'smoke', 'custom'].includes(mode)) {
  console.error(`report: --mode must be full, smoke or custom, not ${JSON.stringify(mode)}`);
  process.exit(2);
}
const results = readResults(mode).sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
const markdown = results.length ? results.map(section).join('\n\n') : `_No ${mode} results yet: run \`npm run bench\`._`;

if (process.argv.includes('--write')) {
  if (mode !== 'full') {
    console.error('report: bench/README.md shows full runs only; --write takes no --mode');
    process.exit(2);
  }
  const url = new URL('README.md', import.meta.url);
  if (process.env.QUIESCE_BENCH_RESULTS) {
    console.log('QUIESCE_BENCH_RESULTS is set: not touching bench/README.md');
    process.exit(0);
  }
  const readme = readFileSync(url, 'utf8');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error('bench/README.md has no <!-- results:start --> … <!-- results:end --> markers.');
  writeFileSync(url, `${readme.slice(0, a + start.length)}\n${markdown}\n${readme.slice(b)}`);
  console.log('updated bench/README.md');
} else {
  console.log(markdown);
}
