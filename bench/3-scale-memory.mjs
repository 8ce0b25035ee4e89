#!/usr/bin/env node
// Part 3 — scale and memory. `connections` keep-alive connections (one request each, then idle) on
// one server: JS heap per open connection after gc() (heapUsed with N connections minus heapUsed with
// none, over N), bare vs each wrapper; then SIGTERM: drained within the deadline, and how the
// sockets were closed. Goal: Quiesce ≤ +150 bytes per connection over bare (the anchors add ~+500 B
// over bare Node's ~2.8 KB).
import { ensureFdLimit, fdLimits } from './lib/fd-limit.mjs';
import { parseArgs, sleep } from './lib/cli.mjs';

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: { runtimes: ['node', 'bun', 'deno'], rounds: 3, connections: 10_000, warmupConnections: 500, deadlineMs: 10_000, settleMs: 1_000 },
  smoke: { rounds: 1, connections: 1_000, warmupConnections: 100, settleMs: 300 },
  help:
    'node bench/3-scale-memory.mjs [--smoke] [--runtimes=node,bun,deno] [--rounds=3] [--connections=10000] [--warmup-connections=500]\n' +
    '  [--deadline-ms=10000] [--settle-ms=1000]',
});
// The bench holds every client socket and each server every server socket: raise `ulimit -n` first.
ensureFdLimit(settings.connections + 1_000);

const { describeEnvironment } = await import('./lib/environment.mjs');
const { killAllServers } = await import('./lib/harness.mjs');
const { openIdleConnections } = await import('./lib/open-idle.mjs');
const { writeResult } = await import('./lib/results.mjs');
const { median, round } = await import('./lib/stats.mjs');
const { formatTable } = await import('./lib/table.mjs');
const { selectVariants, startVariant } = await import('./lib/variants.mjs');

const limits = fdLimits();
if (limits.soft < settings.connections + 200) {
  throw new Error(`ulimit -n is ${limits.soft} (hard ${limits.hard}) and cannot be raised enough for ${settings.connections} connections.`);
}

const openMany = (port, count) => openIdleConnections(port, count, { batch: 200, timeoutMs: 30_000 });

/** Asks the server for heapUsed after gc() (SIGUSR2 → `heap <n> rss <n> connections <n>`). */
async function heapOf(server) {
  const from = server.lines.length;
  // ServerExit.afterMs counts from the first signal of any kind: remember when that was.
  server.firstSignalAt ??= performance.now();
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
  try {
    // Warm up: the first connections pay for code and pools that later ones reuse.
    const warm = await openMany(server.port, settings.warmupConnections);
    await Promise.all(warm.map(async (c) => {
      c.end();
      await c.waitForClose(5_000);
      c.destroy();
    }));
    await sleep(settings.settleMs);
    await heapOf(server);
    const empty = await heapOf(server);

    const connections = await openMany(server.port, settings.connections);
    await sleep(settings.settleMs);
    await heapOf(server);
    const full = await heapOf(server);

    const killedAt = performance.now();
    const closes = connections.map((c) => c.waitForClose(settings.deadlineMs + 5_000));
    server.kill('SIGTERM');
    const exit = await Promise.race([server.exited, sleep(settings.deadlineMs + 5_000).then(() => undefined)]);
    const how = await Promise.all(closes);
    for (const c of connections) c.destroy();
    const exitMs = exit ? round(server.firstSignalAt + exit.afterMs - killedAt) : Number.NaN;
    return {
      heapEmpty: empty.heap,
      heapFull: full.heap,
      bytesPerConnection: (full.heap - empty.heap) / settings.connections,
      rssPerConnection: (full.rss - empty.rss) / settings.connections,
      serverConnections: full.connections,
      exitMs,
      exitCode: exit ? (exit.signal ?? exit.code) : 'timeout',
      fin: how.filter((h) => h === 'fin').length,
      reset: how.filter((h) => h === 'reset').length,
      other: how.filter((h) => h !== 'fin' && h !== 'reset').length,
      report: server.lines.find((l) => l.startsWith('quiesce:')),
    };
  } finally {
    await server.stop();
  }
}

const variants = selectVariants(settings.runtimes);
const runnable = variants.filter((v) => !v.pending);
const trials = Object.fromEntries(runnable.map((v) => [v.label, []]));
console.log(`Part 3 — scale and memory (${mode}), ${settings.connections} connections, ulimit -n ${limits.soft}. ${describeEnvironment()}`);
try {
  for (let r = 0; r < settings.rounds; r++) {
    for (const v of runnable) {
      const t = await trial(v);
      trials[v.label].push(t);
      console.log(
        `  round ${r + 1}/${settings.rounds} ${v.label}: ${round(t.bytesPerConnection)} B/conn heap, ${round(t.rssPerConnection)} B/conn rss, ` +
          `exit ${t.exitMs} ms (${t.exitCode}), ${t.fin} FIN / ${t.reset} RST${t.report ? `; ${t.report}` : ''}`,
      );
    }
  }
} finally {
  await killAllServers();
}

const rows = [];
for (const v of variants) {
  if (v.pending) {
    rows.push({ label: v.label, note: v.pending });
    continue;
  }
  const list = trials[v.label];
  const bare = trials[`${v.runtime} bare`];
  const bytes = median(list.map((t) => t.bytesPerConnection));
  const bareBytes = median(bare.map((t) => t.bytesPerConnection));
  const sum = (key) => list.reduce((n, t) => n + t[key], 0);
  rows.push({
    runtime: v.runtime,
    variant: v.variant,
    label: v.label,
    heapPerConnection: round(bytes),
    overBare: v.variant === 'bare' ? '-' : `${bytes - bareBytes >= 0 ? '+' : ''}${round(bytes - bareBytes)}`,
    rssPerConnection: round(median(list.map((t) => t.rssPerConnection))),
    exitMs: round(median(list.map((t) => t.exitMs))),
    drained: list.every((t) => t.exitCode === 0 && t.exitMs < settings.deadlineMs) ? 'yes' : 'no',
    closedWith: `${sum('fin')} FIN / ${sum('reset')} RST${sum('other') ? ` / ${sum('other')} other` : ''}`,
    exitCodes: [...new Set(list.map((t) => t.exitCode))].join('/'),
  });
}
const columns = [
  { key: 'label', title: 'server', align: 'left' },
  { key: 'heapPerConnection', title: 'heap B/conn' },
  { key: 'overBare', title: 'vs bare' },
  { key: 'rssPerConnection', title: 'rss B/conn' },
  { key: 'exitMs', title: `SIGTERM→exit ms` },
  { key: 'drained', title: `drained < ${settings.deadlineMs} ms` },
  { key: 'closedWith', title: 'sockets closed with (all runs)', align: 'left' },
  { key: 'exitCodes', title: 'exit' },
  { key: 'note', title: 'note', align: 'left' },
];
console.log(`\n${formatTable(columns, rows)}`);
for (const row of rows.filter((r) => r.variant === 'quiesce')) {
  const over = Number(row.overBare);
  console.log(`${mode === 'smoke' ? '[smoke run, indicative only] ' : ''}goal ${row.label}: ${row.overBare} B/conn over bare (≤ +150) — ${over <= 150 ? 'met' : 'MISSED'}; drained ${row.drained}`);
}
const file = writeResult('scale-memory', {
  mode,
  settings: { ...settings, fdLimit: limits.soft },
  columns,
  rows,
  notes: [
    'heap B/conn = (heapUsed after gc() with N idle keep-alive connections − heapUsed after gc() with none, after a warm-up) / N; rss likewise (noisier).',
    `Every wrapper gets a ${settings.deadlineMs} ms deadline; "drained" means exit code 0 before it.`,
  ],
  raw: trials,
});
console.log(`wrote ${file}`);
