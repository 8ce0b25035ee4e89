#!/usr/bin/env node
// Part 3 — scale and memory. `connections` keep-alive connections (one request each, then idle) on
// one server: JS heap per open connection after gc() (heapUsed with N connections minus heapUsed with
// none, over N), bare vs each wrapper; then SIGTERM: time to exit (drained within the deadline), and
// how the sockets were closed. The clients are a process of their own (lib/idle-clients.mjs), stopped
// while the shutdown is timed, as in part 2: held by the bench, 10 000 sockets made the bench read
// 10 000 FINs before it could see the exit it timed. Every Node row runs on each Node line asked for
// (--lines), Bun and Deno once; each round runs every server once, in a rotating order; a second bare
// server per target is the noise control.
// Goals: Quiesce ≤ +64 bytes per connection over bare (the anchors add ~+500 B over bare Node's
// ~2.8 KB) and 10 000 connections drained no slower than the fastest peer, each called met or
// missed only beyond the noise (bare vs bare, and twice the standard error of the rounds).
import { ensureFdLimit, fdLimits } from './lib/fd-limit.mjs';
import { parseArgs, sleep } from './lib/cli.mjs';

const PART = { part: 3, name: 'scale-memory', title: 'Part 3 — scale and memory' };
const HEAP_GOAL = 64;

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: { rounds: 3, connections: 10_000, warmupConnections: 500, deadlineMs: 10_000, settleMs: 1_000 },
  smoke: { rounds: 1, connections: 1_000, warmupConnections: 100, settleMs: 300 },
  help:
    'node bench/3-scale-memory.mjs [--smoke] [--runtimes=node,bun,deno] [--lines=all|default|20,22,24,26] [--rounds=3] [--connections=10000]\n' +
    '  [--warmup-connections=500] [--deadline-ms=10000] [--settle-ms=1000]',
});
// The idle holder holds every client socket and each server every server socket: raise `ulimit -n` first.
ensureFdLimit(settings.connections + 1_000);

const { createChecks } = await import('./lib/checks.mjs');
const { describeEnvironment } = await import('./lib/environment.mjs');
const { goalRecord, printGoals, ratioNoise, spread, verdictAtMost } = await import('./lib/goals.mjs');
const { killAllServers } = await import('./lib/harness.mjs');
const { holdIdleConnections } = await import('./lib/idle-clients.mjs');
const { openIdleConnections } = await import('./lib/open-idle.mjs');
const { writeResult } = await import('./lib/results.mjs');
const { median, rotate, round, standardError } = await import('./lib/stats.mjs');
const { formatTable } = await import('./lib/table.mjs');
const { peersOf, selectVariants, startVariant, targetsOf } = await import('./lib/variants.mjs');

const limits = fdLimits();
if (limits.soft < settings.connections + 200) {
  throw new Error(`ulimit -n is ${limits.soft} (hard ${limits.hard}) and cannot be raised enough for ${settings.connections} connections.`);
}

/** Asks the server for heapUsed after gc() (SIGUSR2 → `heap <n> rss <n> connections <n>`). */
async function heapOf(server) {
  const from = server.lines.length;
  server.kill('SIGUSR2');
  const line = await server.waitForLine(/^heap \d+/, 30_000, from);
  const [, heap, rss, connections] = /^heap (\d+) rss (\d+) connections (\S+)/.exec(line);
  return { heap: Number(heap), rss: Number(rss), connections: connections === '-' ? undefined : Number(connections) };
}

async function trial(v) {
  const env = { BENCH_DEADLINE_MS: String(settings.deadlineMs) };
  if (v.runtime === 'node') env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim();
  if (v.runtime === 'deno') env.DENO_V8_FLAGS = '--expose-gc';
  const server = await startVariant(v, env);
  let clients;
  try {
    // Warm up: the first connections pay for code and pools that later ones reuse.
    const warm = await openIdleConnections(server.port, settings.warmupConnections, { batch: 200, timeoutMs: 30_000 });
    await Promise.all(
      warm.map(async (c) => {
        c.end();
        await c.waitForClose(5_000);
        c.destroy();
      }),
    );
    await sleep(settings.settleMs);
    await heapOf(server);
    const empty = await heapOf(server);

    clients = await (v.client?.holdIdleConnections ?? holdIdleConnections)(server.port, settings.connections, {
      batch: 200,
      connectTimeoutMs: 30_000,
      timeoutMs: 120_000,
    });
    await sleep(settings.settleMs);
    await heapOf(server);
    const full = await heapOf(server);

    clients.pause();
    const killedAt = performance.now();
    server.kill('SIGTERM');
    const exit = await Promise.race([server.exited, sleep(settings.deadlineMs + 5_000).then(() => undefined)]);
    const exitedAt = performance.now();
    const how = await clients.report(5_000);
    return {
      heapEmpty: empty.heap,
      heapFull: full.heap,
      bytesPerConnection: (full.heap - empty.heap) / settings.connections,
      rssPerConnection: (full.rss - empty.rss) / settings.connections,
      serverConnections: full.connections,
      exitMs: exit ? exitedAt - killedAt : Number.NaN,
      exitCode: exit ? (exit.signal ?? exit.code) : 'timeout',
      fin: how.fin,
      reset: how.reset,
      other: how.other + how.open,
      report: server.lines.find((l) => l.startsWith('quiesce:')),
    };
  } finally {
    clients?.kill();
    await server.stop();
  }
}

const targets = targetsOf(settings);
const variants = [];
for (const v of selectVariants(targets, { part: PART.name })) {
  variants.push(v);
  // The noise control: a second, identical bare server.
  if (v.kind === 'bare') variants.push({ ...v, key: `${v.key}-2`, label: `${v.label} (2nd)`, kind: 'control', control: true });
}
const runnable = variants.filter((v) => !v.pending);
const trials = Object.fromEntries(runnable.map((v) => [v.key, []]));
console.log(`${PART.title} (${mode}), ${settings.connections} connections, ulimit -n ${limits.soft}. ${describeEnvironment()}`);
console.log(`Runs on: ${targets.map((t) => t.on).join(', ')} (clients on node ${process.versions.node}).`);
try {
  for (let r = 0; r < settings.rounds; r++) {
    for (const v of rotate(runnable, r)) {
      const t = await trial(v);
      trials[v.key].push(t);
      console.log(
        `  round ${r + 1}/${settings.rounds} ${v.label}: ${round(t.bytesPerConnection)} B/conn heap, ${round(t.rssPerConnection)} B/conn rss, ` +
          `exit ${round(t.exitMs)} ms (${t.exitCode}), ${t.fin} FIN / ${t.reset} RST${t.report ? `; ${t.report}` : ''}`,
      );
    }
  }
} finally {
  await killAllServers();
}

const bareOf = (v) => runnable.find((p) => p.target.key === v.target.key && p.protocol === v.protocol && p.kind === 'bare' && !p.control);
const controlOf = (v) => runnable.find((p) => p.target.key === v.target.key && p.protocol === v.protocol && p.control);
/** Per-round values of `pick(mine, theirs)` for rows `v` and `other` (same round). */
const perRound = (v, other, pick) => trials[v.key].map((t, i) => (trials[other.key][i] ? pick(t, trials[other.key][i]) : Number.NaN)).filter(Number.isFinite);

const rows = [];
const goals = [];
const checks = createChecks('part 3');
const heapBars = Object.fromEntries(targets.map((t) => [t.key, []]));
const exitBars = Object.fromEntries(targets.map((t) => [t.key, []]));
const exitGoal = {};
for (const v of variants) {
  const base = { target: v.target.key, on: v.on, runtime: v.runtime, variant: v.variant, kind: v.kind, label: v.label };
  if (v.pending) {
    rows.push({ ...base, note: v.pending });
    continue;
  }
  const list = trials[v.key];
  const bare = bareOf(v);
  const sum = (key) => list.reduce((n, t) => n + t[key], 0);
  const bytes = median(list.map((t) => t.bytesPerConnection));
  // Over bare: per round (the two servers ran in the same round), then the median.
  const over = !bare || v === bare ? [] : perRound(v, bare, (a, b) => a.bytesPerConnection - b.bytesPerConnection);
  const overMedian = median(over);
  const name = v.control ? 'bare (2nd)' : v.label.slice(v.target.label.length + 1);
  const exits = spread(list.map((t) => t.exitMs));
  rows.push({
    ...base,
    heapPerConnection: round(bytes),
    overBare: v === bare ? '-' : `${overMedian >= 0 ? '+' : ''}${round(overMedian)}`,
    overBareRange: over.length ? `${round(Math.min(...over))}–${round(Math.max(...over))}` : undefined,
    rssPerConnection: round(median(list.map((t) => t.rssPerConnection))),
    exitMs: round(exits?.median ?? Number.NaN),
    exitRange: exits && `${round(exits.min)}–${round(exits.max)}`,
    drained: list.every((t) => t.exitCode === 0 && t.exitMs < settings.deadlineMs) ? 'yes' : 'no',
    closedWith: `${sum('fin')} FIN / ${sum('reset')} RST${sum('other') ? ` / ${sum('other')} other` : ''}`,
    exitCodes: [...new Set(list.map((t) => t.exitCode))].join('/'),
    note: v.control ? 'noise control: a second bare server' : undefined,
  });
  if (v !== bare && over.length) {
    const s = spread(over);
    heapBars[v.target.key].push({ label: name, value: s.median, min: s.min, max: s.max, kind: v.kind });
  }
  exitBars[v.target.key].push({ label: name, value: exits?.median ?? Number.NaN, min: exits?.min, max: exits?.max, kind: v.kind });

  if (v.kind !== 'quiesce') continue;
  const row = rows.at(-1);
  const control = controlOf(v);
  const controlOver = control && bare ? perRound(control, bare, (a, b) => a.bytesPerConnection - b.bytesPerConnection) : [];
  const heapNoise = Math.max(controlOver.length ? Math.abs(median(controlOver)) : 0, 2 * standardError(over));
  if (over.length) goals.push(
    goalRecord({
      part: PART.part,
      target: v.target,
      row: v.label,
      measure: 'heap per connection over bare',
      goal: `≤ +${HEAP_GOAL} B`,
      value: overMedian,
      unit: ' B',
      digits: 0,
      range: spread(over),
      noise: heapNoise,
      verdict: verdictAtMost(overMedian, HEAP_GOAL, heapNoise, over.length),
      detail: `${round(bytes)} B vs bare ${round(median(trials[bare.key].map((t) => t.bytesPerConnection)))} B${controlOver.length ? `; bare vs bare ${round(median(controlOver))} B` : ''}`,
    }),
  );
  // Drained no slower than the fastest peer (by median), as a median of per-round ratios.
  const peers = peersOf(v, runnable);
  const fastest = peers.reduce((a, b) => (median(trials[b.key].map((t) => t.exitMs)) < median(trials[a.key].map((t) => t.exitMs)) ? b : a), peers[0]);
  if (fastest) {
    const ratios = perRound(v, fastest, (a, b) => a.exitMs / b.exitMs);
    const controlRatios = control && bare ? perRound(control, bare, (a, b) => a.exitMs / b.exitMs) : [];
    const s = spread(ratios);
    const theirs = median(trials[fastest.key].map((t) => t.exitMs));
    exitGoal[v.target.key] = { value: theirs, label: `fastest peer (${fastest.variant})` };
    row.exitVsFastest = s && `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)}) ${fastest.variant}`;
    if (s) {
      const noise = ratioNoise(ratios, controlRatios);
      goals.push(
        goalRecord({
          part: PART.part,
          target: v.target,
          row: v.label,
          metric: `${settings.connections} connections drained vs fastest peer`,
          measure: `${settings.connections} connections SIGTERM→exit vs the fastest peer (${fastest.variant})`,
          goal: '≤ 1.00× (no slower)',
          value: s.median,
          unit: '×',
          digits: 2,
          range: s,
          noise,
          verdict: verdictAtMost(s.median, 1, noise, s.n),
          detail: `${round(exits.median)} ms vs ${round(theirs)} ms${controlRatios.length ? `; bare vs bare ${median(controlRatios).toFixed(2)}×` : ''}`,
        }),
      );
    }
  }
  // Correctness, never timing: drained (exit 0 before the deadline) and every socket closed with FIN.
  checks.expect(row.exitCodes === '0', `${v.label}: exit code(s) ${row.exitCodes}, expected 0 (drained before the ${settings.deadlineMs} ms deadline)`);
  checks.expect(list.every((t) => t.fin === settings.connections && t.reset === 0 && t.other === 0), `${v.label}: sockets not all closed with FIN (${row.closedWith})`);
}
const columns = [
  { key: 'label', title: 'server', align: 'left' },
  { key: 'on', title: 'runs on', align: 'left' },
  { key: 'heapPerConnection', title: 'heap B/conn' },
  { key: 'overBare', title: 'vs bare' },
  { key: 'overBareRange', title: 'rounds' },
  { key: 'rssPerConnection', title: 'rss B/conn' },
  { key: 'exitMs', title: `SIGTERM→exit ms` },
  { key: 'exitRange', title: 'rounds' },
  { key: 'exitVsFastest', title: 'vs fastest peer (rounds)', align: 'left' },
  { key: 'drained', title: `drained < ${settings.deadlineMs} ms` },
  { key: 'closedWith', title: 'sockets closed with (all runs)', align: 'left' },
  { key: 'exitCodes', title: 'exit' },
  { key: 'note', title: 'note', align: 'left' },
];
console.log(`\n${formatTable(columns, rows)}`);
printGoals(goals, mode);
const file = writeResult(PART.name, {
  ...PART,
  mode,
  settings: { ...settings, fdLimit: limits.soft },
  targets,
  columns,
  rows,
  goals,
  chart: {
    title: `${PART.title}: ${settings.connections} idle keep-alive connections`,
    note: `median of ${settings.rounds} rounds; heap after gc(), over the bare server of the same round`,
    goalLegend: 'goal',
    panels: [
      { title: 'JS heap per connection over bare (bytes)', unit: ' B', digits: 0, goal: { value: HEAP_GOAL, label: `goal ≤ +${HEAP_GOAL} B` }, groups: targets.map((t) => ({ label: t.on, bars: heapBars[t.key] })) },
      { title: `SIGTERM → exit with ${settings.connections} idle connections (ms; goal: no slower than the fastest peer)`, unit: ' ms', digits: 0, groups: targets.map((t) => ({ label: t.on, bars: exitBars[t.key], goal: exitGoal[t.key] })) },
    ],
  },
  notes: [
    'heap B/conn = (heapUsed after gc() with N idle keep-alive connections − heapUsed after gc() with none, after a warm-up) / N; rss likewise (noisier). vs bare = the difference with the bare server of the same round, median over rounds.',
    `runs on: the runtime and line of the server; the clients (a process of their own, stopped while the shutdown is timed) run on node ${process.versions.node}.`,
    `Every wrapper gets a ${settings.deadlineMs} ms deadline; "drained" means exit code 0 before it. SIGTERM→exit as the bench sees the exit; vs fastest peer = median of per-round ratios.`,
    'Goals are called met or missed only beyond the noise: how far the second bare server lands from the first, and twice the standard error of the rounds.',
  ],
  raw: trials,
});
console.log(`wrote ${file}`);
checks.finish();
