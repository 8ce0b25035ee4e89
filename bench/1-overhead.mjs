#!/usr/bin/env node
// Part 1 — overhead. Server CPU time per request (utime+stime from /proc), requests/s and p99 of a
// hello-world server, bare vs wrapped, per runtime, measured in one run: every server runs as its
// own child process, and each round loads them one after the other in a rotating order. Bare runs
// twice per round (two processes) as a noise control. Ratios are per round against the first bare
// server, then the median over rounds. Goal: Quiesce ≤ 1.02× bare CPU per request.
import autocannon from 'autocannon';
import { parseArgs } from './lib/cli.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { killAllServers } from './lib/harness.mjs';
import { cpuTime } from './lib/proc-cpu.mjs';
import { writeResult } from './lib/results.mjs';
import { median, ratio, rotate, round } from './lib/stats.mjs';
import { formatTable } from './lib/table.mjs';
import { selectVariants, startVariant } from './lib/variants.mjs';

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: { runtimes: ['node', 'bun', 'deno'], rounds: 7, durationMs: 5_000, warmupMs: 3_000, connections: 10, maxRequests: 2_000_000 },
  // autocannon runs for whole seconds (it stops on its 1 s tick): a smoke run is one round, no warm-up.
  smoke: { rounds: 1, durationMs: 1_000, warmupMs: 0 },
  help: 'node bench/1-overhead.mjs [--smoke] [--runtimes=node,bun,deno] [--rounds=7] [--duration-ms=5000] [--warmup-ms=3000] [--connections=10] [--max-requests=2000000]',
});

/** One bounded autocannon run (time and count) against loopback, with the server's CPU over it. */
async function load(server, durationMs) {
  const before = cpuTime(server.pid);
  const startedAt = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    connections: settings.connections,
    duration: durationMs / 1000,
    maxOverallRequests: settings.maxRequests,
  });
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
  };
}

const rows = [];
const raw = {};
console.log(`Part 1 — overhead (${mode}). ${describeEnvironment()}`);
try {
  for (const runtime of settings.runtimes) {
    const variants = selectVariants([runtime]);
    const bare = variants.find((v) => v.variant === 'bare');
    // Bare twice: the spread between two identical servers is the noise floor of the ratios.
    const runnable = [
      { ...bare, key: 'bare' },
      { ...bare, key: 'bare-2', label: `${bare.label} (2nd)` },
      ...variants.filter((v) => v.variant !== 'bare' && !v.pending).map((v) => ({ ...v, key: v.variant })),
    ];
    const trials = Object.fromEntries(runnable.map((v) => [v.key, []]));
    for (let r = 0; r < settings.rounds; r++) {
      // Fresh processes every round, so that a process that happens to be slow (memory layout, JIT
      // decisions) is one sample, not a bias.
      const servers = new Map();
      try {
        for (const v of runnable) {
          const server = await startVariant(v);
          servers.set(v.key, server);
          if (settings.warmupMs > 0) await load(server, settings.warmupMs);
        }
        for (const v of rotate(runnable, r)) trials[v.key].push(await load(servers.get(v.key), settings.durationMs));
      } finally {
        for (const server of servers.values()) await server.stop();
      }
      const progress = runnable.map((v) => `${v.key} ${trials[v.key].at(-1).cpuUsPerRequest.toFixed(1)}`).join(', ');
      console.log(`  ${runtime} round ${r + 1}/${settings.rounds}: CPU µs/request ${progress}`);
    }
    raw[runtime] = trials;

    const base = trials.bare;
    for (const v of runnable) {
      const list = trials[v.key];
      const perRound = (pick) => list.map((t, i) => pick(t) / pick(base[i]));
      rows.push({
        runtime,
        variant: v.key,
        label: v.label,
        cpuUsPerRequest: round(median(list.map((t) => t.cpuUsPerRequest)), 2),
        cpuRatio: v.key === 'bare' ? '1.000×' : ratio(median(perRound((t) => t.cpuUsPerRequest)), 1),
        schedRatio: v.key === 'bare' ? '1.000×' : ratio(median(perRound((t) => t.schedUsPerRequest)), 1),
        userUsPerRequest: round(median(list.map((t) => t.userUsPerRequest)), 2),
        sysUsPerRequest: round(median(list.map((t) => t.sysUsPerRequest)), 2),
        requestsPerSecond: round(median(list.map((t) => t.requestsPerSecond))),
        rpsRatio: v.key === 'bare' ? '1.000×' : ratio(median(perRound((t) => t.requestsPerSecond)), 1),
        p99Ms: round(median(list.map((t) => t.p99Ms)), 1),
        errors: list.reduce((n, t) => n + t.errors, 0),
      });
    }
    for (const v of variants.filter((x) => x.pending)) rows.push({ runtime, variant: v.variant, label: v.label, note: v.pending });
  }
} finally {
  await killAllServers();
}

const columns = [
  { key: 'label', title: 'server', align: 'left' },
  { key: 'cpuUsPerRequest', title: 'CPU µs/req' },
  { key: 'cpuRatio', title: 'CPU/req vs bare' },
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
const quiesce = rows.filter((r) => r.variant === 'quiesce' && r.cpuRatio);
for (const r of quiesce) {
  const value = Number.parseFloat(r.cpuRatio);
  const noise = rows.find((x) => x.runtime === r.runtime && x.variant === 'bare-2')?.cpuRatio;
  // The spread between the two bare servers is the noise: call it only when the result clears it.
  const noiseOff = Math.abs(Number.parseFloat(noise) - 1);
  const verdict = value - noiseOff > 1.02 ? 'MISSED' : value + noiseOff <= 1.02 ? 'met' : 'inconclusive (within the noise)';
  console.log(`${mode === 'smoke' ? '[smoke run, indicative only] ' : ''}goal ${r.runtime}: quiesce CPU/request ${r.cpuRatio} of bare (goal ≤ 1.02×; bare vs bare ${noise}) — ${verdict}`);
}
const file = writeResult('overhead', {
  mode,
  settings,
  columns,
  rows,
  notes: [
    'CPU = utime+stime of the server process from /proc/<pid>/stat over each load run, divided by responses; schedstat = the same from per-thread schedstat (ns resolution).',
    'Ratios: per round against the first bare server, median over rounds. bare (2nd) is a second, identical bare process: its ratio is the noise floor.',
    'Every round starts fresh server processes and warms each one up before measuring; the order rotates from round to round.',
    'user µs / sys µs: the two parts of CPU per request; a wrapper adds user time, the kernel loopback work is sys time.',
    `Load: autocannon, ${settings.connections} keep-alive connections, loopback, bounded by time and by ${settings.maxRequests} requests.`,
    'terminus is set up as in its README (one health check), which wraps the request listener.',
  ],
  raw,
});
console.log(`wrote ${file}`);
