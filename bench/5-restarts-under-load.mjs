#!/usr/bin/env node
// Part 5 — restarts under load. The measurement is restarts/restarts.mjs, with the servers it
// restarts beside it: keep-alive and fresh-connection clients on loopback while a
// server restarts several times, every mode in one run, one after the other: Quiesce's Node
// self-restart on SIGUSR2, `quiesce run` + SIGHUP on Node, Bun and Deno; the same with idle sockets
// closed at once (controls); and two anchors without Quiesce: a naive stop-then-start on the same
// port and Node `cluster` worker replacement as `pm2 reload` does it. Prints failed requests per
// restart (medians over restarts) per mode, compares the anchors with Quiesce and writes
// bench/results/restarts.json. The Node modes run on each Node line asked for (--lines: every Node
// process of the mode is on the line, the load clients stay on the Node running the bench); the Bun
// and Deno modes (`quiesce run` with a Bun or Deno generation) run once, their supervisor on the
// Node running the bench. Goal: 0 failed for Quiesce on every runtime and line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createChecks } from './lib/checks.mjs';
import { parseArgs } from './lib/cli.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { goalRecord, printGoals, spread, verdictAtMost } from './lib/goals.mjs';
import { writeResult } from './lib/results.mjs';
import { median, ratio } from './lib/stats.mjs';
import { formatTable } from './lib/table.mjs';
import { targetsOf } from './lib/variants.mjs';

const PART = { part: 5, name: 'restarts', title: 'Part 5 — restarts under load' };
const ALL_MODES = ['hot-node', 'hot-node-lifecycle', 'hot-node-hard', 'run-node', 'run-bun', 'run-deno', 'run-node-hard', 'naive-node', 'cluster-node'];

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: {
    restarts: 5,
    intervalMs: 1_000,
    keepAlive: 8,
    fresh: 4,
    modes: ALL_MODES,
  },
  smoke: { restarts: 2, intervalMs: 500, modes: ['hot-node', 'run-node', 'run-bun', 'run-deno', 'naive-node', 'cluster-node'] },
  help:
    'node bench/5-restarts-under-load.mjs [--smoke] [--runtimes=node,bun,deno] [--lines=all|default|20,22,24,26] [--restarts=5] [--interval-ms=1000]\n' +
    '  [--keep-alive=8] [--fresh=4] [--modes=hot-node,hot-node-lifecycle,hot-node-hard,run-node,run-bun,run-deno,run-node-hard,naive-node,cluster-node]\n' +
    'Needs the build (npm run build).',
});
const unknownModes = settings.modes.filter((m) => !ALL_MODES.includes(m));
if (unknownModes.length) {
  console.error(`--modes: unknown ${unknownModes.join(', ')}; modes: ${ALL_MODES.join(', ')}`);
  process.exit(2);
}
/** The runtime a mode's servers run on: run-bun / run-deno on Bun / Deno, every other on Node. */
const runtimeOfMode = (m) => (m === 'run-bun' ? 'bun' : m === 'run-deno' ? 'deno' : 'node');

const script = fileURLToPath(new URL('restarts/restarts.mjs', import.meta.url));
const targets = targetsOf(settings).filter((t) => settings.modes.some((m) => runtimeOfMode(m) === t.runtime));

/** Runs restarts.mjs for the modes of `target`; resolves with its JSON (undefined if it wrote none) and exit status. */
async function runTarget(target) {
  const modes = settings.modes.filter((m) => runtimeOfMode(m) === target.runtime);
  const scratch = mkdtempSync(join(tmpdir(), 'quiesce-bench-restarts-'));
  const jsonFile = join(scratch, 'restarts.json');
  try {
    const child = spawn(
      process.execPath,
      [
        script,
        ...['--restarts', settings.restarts, '--interval-ms', settings.intervalMs, '--keep-alive', settings.keepAlive, '--fresh', settings.fresh],
        ...['--modes', modes.join(','), '--json', jsonFile],
        ...(target.runtime === 'node' ? ['--node', target.binary] : []),
      ].map(String),
      { stdio: 'inherit' },
    );
    // restarts.mjs kills every process it started when it gets a signal: pass ours on.
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const status = await new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    let measured;
    try {
      measured = JSON.parse(readFileSync(jsonFile, 'utf8'));
    } catch {
      console.error(`restarts.mjs (${target.on}) exited with ${status} and wrote no result`);
    }
    if (measured && status !== 0) console.error(`restarts.mjs (${target.on}) exited with ${status}: a mode stopped early (see its note)`);
    return { measured, status };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

console.log(`${PART.title} (${mode}). ${describeEnvironment()}`);
console.log(`Runs on: ${targets.map((t) => t.on).join(', ')} (load clients on node ${process.versions.node}).`);
const checks = createChecks('part 5');
const measuredModes = [];
for (const target of targets) {
  console.log(`\n--- ${target.on} ---`);
  const { measured, status } = await runTarget(target);
  checks.expect(measured !== undefined, `restarts.mjs on ${target.on} wrote no result (exit ${status})`);
  for (const m of measured?.modes ?? []) measuredModes.push({ ...m, target });
}

const rows = measuredModes.map((m) => {
  const base = { target: m.target.key, on: m.target.on, runtime: m.target.runtime, mode: m.name, kind: m.kind, label: `${m.target.label} ${m.label}` };
  if (m.skipped) return { ...base, note: `skipped: ${m.skipped}` };
  const per = m.perRestart;
  const failed = per.map((r) => r.failed);
  const lost = per.map((r) => r.keepAlive.lost + r.fresh.lost);
  const refused = per.map((r) => r.keepAlive.refused + r.fresh.refused);
  return {
    ...base,
    failedRange: per.length ? `${Math.min(...failed)}–${Math.max(...failed)}` : undefined,
    restarts: m.restarts,
    keepAliveOk: m.total.keepAlive.ok,
    keepAliveLost: m.total.keepAlive.lost,
    keepAliveRefused: m.total.keepAlive.refused,
    freshOk: m.total.fresh.ok,
    freshLost: m.total.fresh.lost,
    freshRefused: m.total.fresh.refused,
    failed: m.total.failed,
    failedPerRestart: median(failed),
    lostPerRestart: median(lost),
    refusedPerRestart: median(refused),
    worstRestart: per.length ? Math.max(...failed) : undefined,
    longestGapMs: median(per.map((r) => r.longestGapMs)),
    how:
      Object.entries(m.total.how)
        .sort((a, b) => b[1] - a[1])
        .map(([what, n]) => `${what}: ${n}`)
        .join(', ') || undefined,
    note: m.problem ? `stopped early: ${m.problem}` : m.before.failed ? `${m.before.failed} failed before the first restart` : undefined,
  };
});

const columns = [
  { key: 'label', title: 'mode', align: 'left' },
  { key: 'on', title: 'runs on', align: 'left' },
  { key: 'restarts', title: 'restarts' },
  { key: 'keepAliveOk', title: 'keep-alive ok' },
  { key: 'keepAliveLost', title: 'keep-alive lost' },
  { key: 'keepAliveRefused', title: 'keep-alive refused' },
  { key: 'freshOk', title: 'fresh ok' },
  { key: 'freshLost', title: 'fresh lost' },
  { key: 'freshRefused', title: 'fresh refused' },
  { key: 'failed', title: 'failed' },
  { key: 'failedPerRestart', title: 'failed/restart (median)' },
  { key: 'failedRange', title: 'restarts (min–max)' },
  { key: 'lostPerRestart', title: 'lost/restart' },
  { key: 'refusedPerRestart', title: 'refused/restart' },
  { key: 'worstRestart', title: 'worst restart' },
  { key: 'longestGapMs', title: 'longest gap ms (median)' },
  { key: 'how', title: 'how requests failed (client, outcome, error: count)', align: 'left' },
  { key: 'note', title: 'note', align: 'left' },
];
console.log(`\n${formatTable(columns, rows)}`);

const measuredRows = rows.filter((r) => r.restarts > 0);
/** A mode's name without its runtime, so that `quiesce run` on Node, Bun and Deno is one row across the lines. */
const SUBJECT = { 'run-node': 'quiesce run (SIGHUP)', 'run-bun': 'quiesce run (SIGHUP)', 'run-deno': 'quiesce run (SIGHUP)', 'hot-node': 'hot restart (SIGUSR2)', 'hot-node-lifecycle': 'hot restart via the lifecycle' };
const goals = [];
for (const r of measuredRows.filter((x) => x.kind === 'quiesce')) {
  const target = targets.find((t) => t.key === r.target);
  goals.push(
    goalRecord({
      part: PART.part,
      target,
      row: r.label,
      subject: SUBJECT[r.mode] ?? r.mode,
      metric: 'failed requests',
      measure: `failed requests in ${r.restarts} restarts`,
      goal: '0',
      value: r.failed,
      digits: 0,
      verdict: r.note?.startsWith('stopped early') ? `${verdictAtMost(r.failed, 0)}, but ${r.note}` : verdictAtMost(r.failed, 0),
      detail: r.how,
    }),
  );
  checks.expect(r.failed === 0, `${r.label}: ${r.failed} failed requests in ${r.restarts} restarts (${r.how})`);
}
for (const r of rows) checks.expect(!r.note?.startsWith('stopped early') && !r.note?.startsWith('skipped'), `${r.label}: ${r.note}`);
printGoals(goals, mode);
// Anchors and controls against the best Quiesce mode of the same target: a ratio needs a Quiesce figure above 0.
for (const r of measuredRows.filter((x) => x.kind !== 'quiesce')) {
  const best = measuredRows.filter((x) => x.kind === 'quiesce' && x.target === r.target).toSorted((a, b) => a.failedPerRestart - b.failedPerRestart)[0];
  const against = best
    ? best.failedPerRestart > 0
      ? `${ratio(r.failedPerRestart, best.failedPerRestart, 1)} of ${best.mode} (${best.failedPerRestart} per restart)`
      : `vs 0 for ${best.mode}`
    : 'no Quiesce mode measured';
  console.log(
    `${mode === 'smoke' ? '[smoke run, indicative only] ' : ''}${r.label}: ${r.failedPerRestart} failed per restart (median; ${r.lostPerRestart} lost, ${r.refusedPerRestart} refused), ` +
      `longest gap ${r.longestGapMs} ms — ${against}`,
  );
}
/** Short names for the chart's bars. */
const SHORT = {
  'hot-node': 'hot restart',
  'hot-node-lifecycle': 'hot restart, lifecycle',
  'hot-node-hard': 'control: hot, idle closed',
  'run-node': 'quiesce run',
  'run-bun': 'quiesce run',
  'run-deno': 'quiesce run',
  'run-node-hard': 'control: run, idle closed',
  'naive-node': 'naive stop-then-start',
  'cluster-node': 'cluster (pm2 reload)',
};
const chartGroups = targets.map((t) => ({
  label: t.on,
  bars: measuredModes
    .filter((m) => m.target.key === t.key && !m.skipped)
    .map((m) => {
      const s = spread(m.perRestart.map((x) => x.failed));
      return { label: SHORT[m.name] ?? m.name, value: s?.median ?? Number.NaN, min: s?.min, max: s?.max, kind: m.kind === 'quiesce' ? 'quiesce' : m.kind === 'control' ? 'control' : 'anchor' };
    }),
}));

const file = writeResult(PART.name, {
  ...PART,
  mode,
  settings,
  targets,
  columns,
  rows,
  goals,
  chart: {
    title: `${PART.title}: ${settings.keepAlive} keep-alive + ${settings.fresh} fresh-connection clients`,
    note: `failed requests per restart (lost or refused), median over ${settings.restarts} restarts per mode`,
    goalLegend: 'goal: 0 for Quiesce',
    kindNames: { control: 'control: Quiesce, idle sockets closed at once', anchor: 'anchor (naive restart, cluster)' },
    panels: [{ title: 'failed requests per restart', digits: 0, goal: { value: 0, label: 'goal: 0 failed' }, groups: chartGroups }],
  },
  notes: [
    `runs on: the Node line of every Node process of a mode (servers, quiesce run, the naive server, the cluster primary and workers); the Bun and Deno rows run quiesce run on node ${process.versions.node} with Bun or Deno generations; the load clients always run on node ${process.versions.node}.`,
    `Load: ${settings.keepAlive} keep-alive clients (requests back to back on one connection, reconnecting after Connection: close) and ${settings.fresh} fresh-connection clients (one request per connection), raw HTTP/1.1 on 127.0.0.1, bounded in count and time; ${settings.restarts} restarts per mode, ${settings.intervalMs} ms apart; modes run one after the other in one run.`,
    'ok = a complete response; lost = the request was written, then the connection closed or reset without a response (not safe to retry blindly); refused = the connection failed, nothing was sent. A refused client retries after 5 ms, so refused counts attempts: it grows with the downtime and the number of clients.',
    "A restart's counts run from its signal to the next restart's (the last one: to the end of the load); failed/restart and the longest gap are medians over restarts. Longest gap = the longest time between two consecutive ok responses of any client.",
    'Quiesce: hot restart = the server re-executes itself on SIGUSR2 and hands its listening socket to the new process; quiesce run = a supervisor holds the socket and rolls generations on SIGHUP. Both drain softly: Connection: close on every response, idle sockets closed after 250 ms without bytes.',
    'Controls (Quiesce with idle keep-alive sockets closed at once, as http.Server#close does): show why the soft drain matters.',
    'naive stop-then-start: node:http, SIGTERM -> server.close() -> exit, then a new process listens on the same port.',
    'Node cluster as pm2 reload (PM2 5.x God/Reload.js, Methods.js): the primary forks a new worker, waits for its listening event, sends the old worker SIGINT (it runs server.close() and exits), SIGKILL after kill_timeout 1600 ms. One worker; Node on Linux uses round-robin scheduling: the primary accepts every connection and passes it to a worker.',
    'Where the anchors fail. naive: refused = connections while no process listens (between the old listener closing and the new one listening; about the longest gap); lost = keep-alive sockets that server.close() closes as idle just as the client writes its next request (FIN, or RST when the request had arrived), and fresh connections still in the old listener\'s accept queue when it closes (reset). cluster: nothing is refused (the primary keeps the listening socket); lost = the same idle-close race in the old worker, about one per keep-alive client per reload; now and then a fresh connection the primary had just handed to the exiting worker is never answered nor closed (the primary still holds it: `fresh lost timeout`, the client gives up after 10 s). The controls lose requests to the same idle-close race.',
  ],
  raw: measuredModes.map(({ target, ...m }) => ({ target: target.key, ...m })),
});
console.log(`wrote ${file}`);
checks.finish();
