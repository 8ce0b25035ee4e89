#!/usr/bin/env node
// Part 1 — overhead. Server CPU time per request (utime+stime from /proc), requests/s and p99 of a
// hello-world server, bare vs wrapped, per runtime, measured in one run. Each variant is measured
// side by side with a bare partner: two fresh processes pinned to the same core, loaded at the same
// time from the other core, so whatever the machine does meanwhile (frequency, other processes,
// cache) hits both alike and cancels in their ratio. Bare is also paired with a second bare server
// as the noise control. The ratio of a pair is the variant's CPU per request over its partner's;
// the median over rounds is reported; the order of the pairs rotates. Every Node row runs on each
// Node line asked for (--lines), Bun and Deno once. Goal: Quiesce ≤ 1.02× bare on every runtime
// and line, called met or missed only when the median clears the noise (the bare-vs-bare distance
// from 1.000× and twice the standard error of the rounds). Node rounds need more of them: see
// `nodeRounds` and bench/README.md.
import autocannon from 'autocannon';
import { createChecks } from './lib/checks.mjs';
import { parseArgs } from './lib/cli.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { goalRecord, printGoals, ratioNoise, spread, verdictAtMost } from './lib/goals.mjs';
import { killAllServers } from './lib/harness.mjs';
import { canPin, pinToCpu } from './lib/cpu-pinning.mjs';
import { cpuTime } from './lib/proc-cpu.mjs';
import { writeResult } from './lib/results.mjs';
import { median, medianInterval, ratio, rotate, round } from './lib/stats.mjs';
import { formatTable } from './lib/table.mjs';
import { selectVariants, startVariant, targetsOf } from './lib/variants.mjs';

const PART = { part: 1, name: 'overhead', title: 'Part 1 — overhead (hello world, CPU per request)' };
const GOAL = 1.02;

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: { rounds: 7, nodeRounds: 15, durationMs: 5_000, warmupMs: 3_000, windowMs: 1_000, connections: 10, maxRequests: 2_000_000 },
  // autocannon runs for whole seconds (it stops on its 1 s tick): a smoke run is one round, no warm-up.
  smoke: { rounds: 1, nodeRounds: 1, durationMs: 1_000, warmupMs: 0 },
  help:
    'node bench/1-overhead.mjs [--smoke] [--runtimes=node,bun,deno] [--lines=all|default|20,22,24,26] [--rounds=7] [--node-rounds=7]\n' +
    '  [--duration-ms=5000] [--warmup-ms=3000] [--window-ms=1000] [--connections=10] [--max-requests=2000000]\n' +
    '  --rounds: Bun and Deno; --node-rounds: each Node line. --window-ms: also sample each measurement in windows\n' +
    '  of this length (0: off), to tell a spread that belongs to the processes from one that belongs to the moment.',
});

/**
 * One bounded autocannon run (time and count) against loopback, with the server's CPU over it. With
 * `windowMs`, also the server's CPU (schedstat, ns) and the responses in each window of that length.
 */
async function load(server, durationMs, windowMs = 0) {
  const before = cpuTime(server.pid);
  const startedAt = performance.now();
  const instance = autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    connections: settings.connections,
    duration: durationMs / 1000,
    maxOverallRequests: settings.maxRequests,
  });
  const windows = [];
  let timer;
  if (windowMs > 0) {
    let responses = 0;
    let last = { cpu: before, responses: 0 };
    instance.on('response', () => responses++);
    timer = setInterval(() => {
      const cpu = cpuTime(server.pid);
      windows.push({ schedMs: cpu.schedMs - last.cpu.schedMs, responses: responses - last.responses });
      last = { cpu, responses };
    }, windowMs);
  }
  const result = await instance;
  clearInterval(timer);
  const wallMs = performance.now() - startedAt;
  const after = cpuTime(server.pid);
  const responses = result['2xx'] + result.non2xx;
  return {
    responses,
    errors: result.errors + result.timeouts + result.non2xx,
    wallMs: round(wallMs, 1),
    cpuMs: round(after.statMs - before.statMs, 1),
    schedCpuMs: round(after.schedMs - before.schedMs, 2),
    cpuUsPerRequest: responses > 0 ? ((after.statMs - before.statMs) * 1000) / responses : Number.NaN,
    schedUsPerRequest: responses > 0 ? ((after.schedMs - before.schedMs) * 1000) / responses : Number.NaN,
    userUsPerRequest: responses > 0 ? ((after.userMs - before.userMs) * 1000) / responses : Number.NaN,
    sysUsPerRequest: responses > 0 ? ((after.sysMs - before.sysMs) * 1000) / responses : Number.NaN,
    requestsPerSecond: (responses * 1000) / wallMs,
    p99Ms: result.latency.p99,
    windows,
  };
}

/** Loads both servers of a pair at the same time, each with its own autocannon. */
function loadPair(pair, durationMs, windowMs) {
  return Promise.all(pair.map((server) => load(server, durationMs, windowMs)));
}

/**
 * Where the rounds' spread comes from: per pair, the ratio in each window (variant over partner,
 * CPU per response); `within` is the spread of windows around their pair's mean, `between` the
 * spread of the pairs' means, `expected` what `between` would be if the windows' spread were all
 * there is. `between` well above `expected` means the processes differ (a per-process effect, such as
 * JIT or memory layout: more fresh pairs help); about equal means the moment does (longer windows help).
 */
function spreadSources(pairs) {
  const perPair = pairs
    .map((p) =>
      p.variant.windows
        .map((w, i) => {
          const b = p.bare.windows[i];
          return b && w.responses > 0 && b.responses > 0 ? w.schedMs / w.responses / (b.schedMs / b.responses) : Number.NaN;
        })
        .filter(Number.isFinite),
    )
    .filter((list) => list.length >= 2);
  if (perPair.length < 2) return undefined;
  const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length;
  const means = perPair.map(mean);
  const windowsPerPair = mean(perPair.map((list) => list.length));
  const withinSq = perPair.flatMap((list, i) => list.map((x) => (x - means[i]) ** 2));
  const within = Math.sqrt(withinSq.reduce((a, b) => a + b, 0) / (withinSq.length - perPair.length));
  const grand = mean(means);
  const between = Math.sqrt(means.reduce((a, m) => a + (m - grand) ** 2, 0) / (means.length - 1));
  return { within, between, expected: within / Math.sqrt(windowsPerPair), pairs: perPair.length, windows: Math.round(windowsPerPair) };
}

// The servers of a pair share CPU 0; this process (both autocannons) runs on CPU 1.
const pinned = canPin();
if (pinned) pinToCpu(process.pid, 1);

const targets = targetsOf(settings);
const rows = [];
const raw = {};
const goals = [];
const chartGroups = [];
const checks = createChecks('part 1');
console.log(`${PART.title} (${mode}). ${describeEnvironment()}`);
console.log(`Runs on: ${targets.map((t) => t.on).join(', ')} (load from node ${process.versions.node}).`);
console.log(pinned ? 'Pairs pinned to CPU 0, load from CPU 1 (taskset).' : 'taskset or a second CPU is missing: pairs run unpinned (noisier).');
try {
  for (const target of targets) {
    const variants = selectVariants([target], { part: PART.name });
    const bare = { ...variants.find((v) => v.kind === 'bare' && v.variant === 'bare'), pairKey: 'bare' };
    // Bare against bare: how far from 1.000× two identical servers land is the noise of the method.
    const compared = [
      { ...bare, pairKey: 'bare-2', label: `${bare.label} (2nd)`, kind: 'control', control: true },
      ...variants.filter((v) => v.key !== bare.key && !v.pending).map((v) => ({ ...v, pairKey: v.variant })),
    ];
    const rounds = target.runtime === 'node' ? settings.nodeRounds : settings.rounds;
    const pairs = Object.fromEntries(compared.map((v) => [v.pairKey, []]));
    for (let r = 0; r < rounds; r++) {
      const progress = [];
      for (const v of rotate(compared, r)) {
        // Fresh processes for every pair, so that a process that happens to be slow (memory
        // layout, JIT decisions) is one sample, not a bias.
        const pair = [];
        try {
          pair.push(await startVariant(bare), await startVariant(v));
          if (pinned) for (const server of pair) pinToCpu(server.pid, 0);
          if (settings.warmupMs > 0) await loadPair(pair, settings.warmupMs);
          const [partner, measured] = await loadPair(pair, settings.durationMs, settings.windowMs);
          pairs[v.pairKey].push({ bare: partner, variant: measured });
          progress.push(`${v.pairKey} ${(measured.cpuUsPerRequest / partner.cpuUsPerRequest).toFixed(3)}×`);
        } finally {
          for (const server of pair) await server.stop();
        }
      }
      console.log(`  ${target.label} round ${r + 1}/${rounds}: CPU per request vs its bare partner: ${progress.join(', ')}`);
    }
    raw[target.key] = pairs;

    const partners = Object.values(pairs).flatMap((list) => list.map((p) => p.bare));
    const summarize = (list) => ({
      cpuUsPerRequest: round(median(list.map((t) => t.cpuUsPerRequest)), 2),
      userUsPerRequest: round(median(list.map((t) => t.userUsPerRequest)), 2),
      sysUsPerRequest: round(median(list.map((t) => t.sysUsPerRequest)), 2),
      requestsPerSecond: round(median(list.map((t) => t.requestsPerSecond))),
      p99Ms: round(median(list.map((t) => t.p99Ms)), 1),
      errors: list.reduce((n, t) => n + t.errors, 0),
    });
    const base = { target: target.key, on: target.on, runtime: target.runtime };
    rows.push({ ...base, variant: 'bare', kind: 'bare', label: bare.label, ...summarize(partners), cpuRatio: '1.000×', schedRatio: '1.000×', rpsRatio: '1.000×', rounds, note: "every pair's partner" });
    const cpuRatiosOf = (key) => pairs[key].map((p) => p.variant.cpuUsPerRequest / p.bare.cpuUsPerRequest);
    const controlRatios = cpuRatiosOf('bare-2');
    const bars = [];
    for (const v of compared) {
      const list = pairs[v.pairKey];
      const perPair = (pick) => median(list.map((p) => pick(p.variant) / pick(p.bare)));
      const cpuRatios = cpuRatiosOf(v.pairKey);
      const s = spread(cpuRatios);
      const interval = medianInterval(cpuRatios);
      rows.push({
        ...base,
        variant: v.pairKey,
        kind: v.kind,
        label: v.label,
        ...summarize(list.map((p) => p.variant)),
        cpuRatio: ratio(perPair((t) => t.cpuUsPerRequest), 1),
        cpuRatioRange: s && `${s.min.toFixed(3)}–${s.max.toFixed(3)}`,
        cpuRatioInterval: interval && `${interval.lo.toFixed(3)}–${interval.hi.toFixed(3)}`,
        cpuRatioSem: round(s?.sem ?? Number.NaN, 4),
        schedRatio: ratio(perPair((t) => t.schedUsPerRequest), 1),
        rpsRatio: ratio(perPair((t) => t.requestsPerSecond), 1),
        rounds: list.length,
        spreadSources: (() => {
          const x = spreadSources(list);
          return x && `windows ±${x.within.toFixed(3)}; pairs ±${x.between.toFixed(3)} (±${x.expected.toFixed(3)} from windows alone)`;
        })(),
      });
      bars.push({ label: v.name ?? (v.control ? 'bare (2nd)' : v.variant), value: s?.median ?? Number.NaN, min: s?.min, max: s?.max, kind: v.kind });
      if (v.kind === 'quiesce' && s) {
        const noise = ratioNoise(cpuRatios, controlRatios);
        goals.push(
          goalRecord({
            part: PART.part,
            target,
            row: v.label,
            measure: 'CPU per request vs bare',
            goal: `≤ ${GOAL}×`,
            value: s.median,
            unit: '×',
            range: s,
            noise,
            verdict: verdictAtMost(s.median, GOAL, noise, s.n),
            detail: `${s.n} round${s.n === 1 ? '' : 's'}${interval ? `, median's 95% interval ${interval.lo.toFixed(3)}–${interval.hi.toFixed(3)}` : ''}; bare vs bare ${ratio(median(controlRatios), 1)}`,
          }),
        );
      }
    }
    for (const v of variants.filter((x) => x.pending)) rows.push({ ...base, variant: v.variant, label: v.label, note: v.pending });
    chartGroups.push({ label: target.on, bars });
    for (const row of rows.filter((x) => x.target === target.key && x.errors !== undefined)) {
      checks.expect(row.errors === 0, `${row.label}: ${row.errors} failed requests under plain load (errors, timeouts or non-2xx)`);
    }
  }
} finally {
  await killAllServers();
}

const columns = [
  { key: 'label', title: 'server', align: 'left' },
  { key: 'on', title: 'runs on', align: 'left' },
  { key: 'cpuUsPerRequest', title: 'CPU µs/req' },
  { key: 'cpuRatio', title: 'CPU/req vs bare' },
  { key: 'cpuRatioRange', title: 'rounds (min–max)' },
  { key: 'cpuRatioInterval', title: "median's 95% interval" },
  { key: 'rounds', title: 'rounds' },
  { key: 'spreadSources', title: 'spread: between windows; between pairs', align: 'left' },
  { key: 'schedRatio', title: '(schedstat)' },
  { key: 'userUsPerRequest', title: 'user µs' },
  { key: 'sysUsPerRequest', title: 'sys µs' },
  { key: 'requestsPerSecond', title: 'req/s' },
  { key: 'rpsRatio', title: 'req/s vs bare' },
  { key: 'p99Ms', title: 'p99 ms' },
  { key: 'errors', title: 'errors' },
  { key: 'note', title: 'note', align: 'left' },
];
console.log(`\n${formatTable(columns, rows)}`);
printGoals(goals, mode);
const file = writeResult(PART.name, {
  ...PART,
  mode,
  settings: { ...settings, pinned },
  targets,
  columns,
  rows,
  goals,
  chart: {
    title: `${PART.title}: CPU per request vs bare`,
    note: `median of the rounds' ratios (each variant against a fresh bare partner on the same core); Node ${settings.nodeRounds} rounds per line, Bun and Deno ${settings.rounds}`,
    goalLegend: `goal ≤ ${GOAL}× bare`,
    panels: [{ title: 'CPU per request, × bare', unit: '×', digits: 3, base: 1, goal: { value: GOAL, label: `goal ≤ ${GOAL}×` }, groups: chartGroups }],
  },
  notes: [
    'CPU = utime+stime of the server process from /proc/<pid>/stat over each load run, divided by responses; schedstat = the same from per-thread schedstat (ns resolution).',
    "rounds (min–max): the lowest and highest ratio of the rounds; median's 95% interval: a bootstrap interval of the median over the rounds (narrow = enough rounds). A goal is called met or missed only when the median clears both the bare-vs-bare distance from 1.000× and twice the standard error of the rounds.",
    `spread: each measurement is also sampled in ${settings.windowMs} ms windows (schedstat CPU over responses); "windows" is the standard deviation of a pair's window ratios around the pair's own mean, "pairs" that of the pairs' means, and in brackets what the pairs' spread would be from the windows' alone. Pairs well above it: the processes differ (JIT, memory layout; more fresh pairs help). About equal: the moment differs (longer measurements help).`,
    `Side by side: each variant runs with a bare partner, both fresh processes${pinned ? ' pinned to CPU 0 (taskset), loaded at the same time from CPU 1' : ' (unpinned: taskset or a second CPU was missing), loaded at the same time'}, warmed up together, then measured together; a ratio is the variant over its partner, median over rounds. bare (2nd) is paired with bare the same way: its distance from 1.000× is the noise floor.`,
    `runs on: the runtime and line of the servers; the load (autocannon) always runs on node ${process.versions.node}.`,
    'CPU µs/req, req/s and p99 are those of a server sharing its core with its partner: compare them within the table, not with a server alone on a machine. The bare row is the median over every partner.',
    'user µs / sys µs: the two parts of CPU per request; a wrapper adds user time, the kernel loopback work is sys time.',
    `Load: autocannon, ${settings.connections} keep-alive connections, loopback, bounded by time and by ${settings.maxRequests} requests.`,
    'terminus is set up as in its README (one health check), which wraps the request listener.',
  ],
  raw,
});
console.log(`wrote ${file}`);
checks.finish();
