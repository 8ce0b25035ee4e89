#!/usr/bin/env node
// Renders the full runs' bench/results/<part>.json as Markdown: per part its goals (met / missed /
// inconclusive), its chart, its table and notes; above them, one table of every goal across the Node
// lines, Bun and Deno. Everything comes from the result files (a part's `title`, `goals`, `chart`,
// `columns`, `rows`, `notes`), so a new part (bench/<n>-<name>.mjs) needs no change here.
//   node bench/report.mjs                    print the full runs' Markdown
//   node bench/report.mjs --write            also write bench/results/<name>.svg (one chart per part) and
//                                            replace the section of bench/README.md between the
//                                            `results:start` and `results:end` markers
//   node bench/report.mjs --mode=smoke|custom [--charts]
//                                            the latest run of that kind (<name>.<mode>.json); --charts
//                                            writes its charts as <name>.<mode>.svg beside it
// No network, no browser: the SVG is written by lib/svg-chart.mjs.
import { readFileSync, writeFileSync } from 'node:fs';
import { readResults, resultsDir } from './lib/results.mjs';
import { renderChart } from './lib/svg-chart.mjs';
import { markdownTable } from './lib/table.mjs';

// Titles and order of result files written before results carried their own (2026-11 runs).
const LEGACY_TITLES = {
  overhead: [1, 'Part 1 — overhead (hello world, CPU per request)'],
  'shutdown-latency': [2, 'Part 2 — shutdown latency'],
  'scale-memory': [3, 'Part 3 — scale and memory'],
  'keep-alive-race': [4, 'Part 4 — the keep-alive race'],
  restarts: [5, 'Part 5 — restarts under load'],
  'rolling-restart': [6, 'Part 6 — rolling restart behind HAProxy (replace)'],
  'rolling-restart-restart': [6.5, 'Part 6 — rolling restart behind HAProxy (restart in place)'],
  'websocket-shutdown': [7, 'Part 7 — shutdown latency with 1 000 open WebSockets'],
};
const titleOf = (r) => r.title ?? LEGACY_TITLES[r.name]?.[1] ?? r.name;
const partOf = (r) => r.part ?? LEGACY_TITLES[r.name]?.[0] ?? 99;
/** By part, then by name: `rolling-restart` before `rolling-restart-restart`. */
const byPart = (a, b) => Math.floor(partOf(a)) - Math.floor(partOf(b)) || a.name.localeCompare(b.name);

const args = process.argv.slice(2);
const modeArg = args.find((a) => a.startsWith('--mode='));
const mode = modeArg ? modeArg.slice('--mode='.length) : 'full';
const write = args.includes('--write');
const charts = write || args.includes('--charts');
const unknown = args.filter((a) => a !== '--write' && a !== '--charts' && !a.startsWith('--mode='));
if (unknown.length || !['full', 'smoke', 'custom'].includes(mode)) {
  console.error(`report: usage: node bench/report.mjs [--write] [--mode=full|smoke|custom] [--charts] (got ${args.join(' ')})`);
  process.exit(2);
}
if (write && mode !== 'full') {
  console.error('report: bench/README.md shows full runs only; --write takes no --mode (use --charts for the charts of a smoke or custom run)');
  process.exit(2);
}

/** The file name of a result's chart, beside the result (`overhead.svg`, `overhead.smoke.svg`). */
const chartFile = (r) => (mode === 'full' ? `${r.name}.svg` : `${r.name}.${mode}.svg`);

/** "runs on" of a result: its targets' runtimes and lines, or (older files) the versions. */
function runsOn(r) {
  if (r.targets?.length) return r.targets.map((t) => t.on).join(', ');
  const v = r.versions ?? {};
  return r.name.startsWith('rolling') ? `node ${v.node}, haproxy ${v.haproxy ?? r.settings?.haproxy}` : `node ${v.node}, bun ${v.bun}, deno ${v.deno}`;
}

function section(r) {
  const m = r.machine ?? {};
  const label =
    r.mode === 'full'
      ? 'full run'
      : r.mode === 'smoke'
        ? '**smoke run (tiny counts, shared machine): not final figures**'
        : '**short run (custom settings below, shared machine): not final figures**';
  const lines = [
    `### ${titleOf(r)}`,
    '',
    `${label}; ${r.date.slice(0, 16).replace('T', ' ')} UTC; ${m.cores} cores (${m.cpu}), load average at start ${m.loadAverageAtStart?.join(' ')}; ` +
      `runs on ${runsOn(r)}${r.targets?.length ? ` (clients on node ${r.versions?.node})` : ''}` +
      `${r.name.startsWith('rolling') && r.targets?.length ? `, haproxy ${r.versions?.haproxy ?? r.settings?.haproxy}` : ''}` +
      `${r.commit ? `; commit ${r.commit}` : ''}. Settings: \`${JSON.stringify(r.settings)}\`.`,
  ];
  if (r.goals?.length) {
    lines.push('', ...r.goals.map((g) => `- **${g.verdict}** — ${g.row} (${g.on}): ${g.measure} ${g.display}; goal ${g.goal}`));
  }
  if (charts && r.chart) lines.push('', `![${titleOf(r)}](results/${chartFile(r)})`);
  lines.push('', markdownTable(r.columns, r.rows));
  if (r.notes?.length) lines.push('', ...r.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

/** One table of every goal: a row per part and goal, a column per Node line, Bun and Deno. */
function acrossLines(results) {
  const withGoals = results.filter((r) => r.goals?.length);
  if (withGoals.length === 0) return undefined;
  const columns = [];
  for (const r of withGoals) for (const t of r.targets ?? []) if (!columns.some((c) => c.key === t.key)) columns.push({ key: t.key, line: t.line, runtime: t.runtime, on: t.on });
  // Node lines in order, then Bun, then Deno.
  const rank = (c) => (c.runtime === 'node' ? c.line : c.runtime === 'bun' ? 1e3 : 2e3);
  columns.sort((a, b) => rank(a) - rank(b));
  const rows = [];
  for (const r of withGoals) {
    for (const g of r.goals) {
      g.subject ??= g.row;
      g.metric ??= g.measure;
    }
    const keys = [];
    for (const g of r.goals) {
      const key = `${g.subject} — ${g.metric}`;
      if (!keys.includes(key)) keys.push(key);
    }
    for (const key of keys) {
      const row = { part: String(r.part ?? ''), what: '', goal: '' };
      for (const g of r.goals.filter((x) => `${x.subject} — ${x.metric}` === key)) {
        row.what ||= `${g.subject}: ${g.metric}`;
        row.goal ||= g.goal;
        const digits = g.unit === '×' ? (g.metric.includes('CPU') ? 3 : 2) : 0;
        const value = g.value === null ? '-' : `${Number(g.value).toFixed(digits)}${g.unit}`;
        row[g.target] = `${value} ${g.verdict === 'met' ? 'met' : g.verdict === 'MISSED' ? '**missed**' : g.verdict.startsWith('inconclusive') ? 'inconclusive' : g.verdict}`;
      }
      rows.push(row);
    }
  }
  const table = markdownTable(
    [
      { key: 'part', title: 'part' },
      { key: 'what', title: 'measure', align: 'left' },
      { key: 'goal', title: 'goal', align: 'left' },
      ...columns.map((c) => ({ key: c.key, title: c.on, align: 'left' })),
    ],
    rows,
  );
  return [
    '### Goals on every line',
    '',
    'Each cell: the measured value and the verdict on that runtime and line (met or missed only beyond the noise of the method; see each part). Read across a row to see how a ratio moves from one Node line to the next.',
    '',
    table,
  ].join('\n');
}

const results = readResults(mode).sort(byPart);
const summary = acrossLines(results);
const markdown = results.length
  ? [summary, ...results.map(section)].filter(Boolean).join('\n\n')
  : `_No ${mode} results yet: run \`npm run bench\`._`;

if (charts) {
  for (const r of results.filter((x) => x.chart)) {
    const url = new URL(chartFile(r), resultsDir);
    writeFileSync(url, renderChart(r.chart));
    console.error(`wrote ${url.pathname}`);
  }
}
if (write) {
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
