#!/usr/bin/env node
// Part 7 — shutdown latency with open WebSockets.
// `connections` WebSockets open (each checked with one echoed frame), held by a client process of
// their own (lib/websocket-holder.mjs) that answers every Close frame as browsers do; SIGTERM; time
// to process exit, and per socket the Close code it got and how its connection ended (FIN or RST).
// Quiesce (createLifecycle over createNodeAdapter({ webSockets }), serveBun, serveDeno +
// upgradeWebSocket) against the bare runtime's own stop with the close a user writes
// (servers/websocket-server.mjs says what each does), one round = every server once, in an order
// that rotates. Goal: every socket closed with 1001 and FIN, and Quiesce's exit within 1.1× of the
// bare server's in the same run (median of per-round ratios).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs, sleep } from './lib/cli.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { ensureFdLimit } from './lib/fd-limit.mjs';
import { createChecks } from './lib/checks.mjs';
import { goalRecord, printGoals, ratioNoise, verdictAtMost } from './lib/goals.mjs';
import { killAllServers, startServer } from './lib/harness.mjs';
import { writeResult } from './lib/results.mjs';
import { median, rotate, round } from './lib/stats.mjs';
import { formatTable } from './lib/table.mjs';
import { onTarget } from './lib/targets.mjs';
import { targetsOf } from './lib/variants.mjs';

const PART = { part: 7, name: 'websocket-shutdown', title: 'Part 7 — shutdown latency with open WebSockets' };

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: { rounds: 5, connections: 1_000, exitTimeoutMs: 15_000 },
  smoke: { rounds: 1, connections: 100, exitTimeoutMs: 8_000 },
  help: 'node bench/7-websocket-shutdown.mjs [--smoke] [--runtimes=node,bun,deno] [--lines=all|default|20,22,24,26] [--rounds=5] [--connections=1000] [--exit-timeout-ms=15000]',
});

// The holder keeps one fd per WebSocket, the server as many.
ensureFdLimit(settings.connections + 500);

const server = fileURLToPath(new URL('./servers/websocket-server.mjs', import.meta.url));
const shutdownCpu = fileURLToPath(new URL('./lib/shutdown-cpu.mjs', import.meta.url));
const holderScript = fileURLToPath(new URL('./lib/websocket-holder.mjs', import.meta.url));
const SHUTDOWN = {
  node: { bare: 'ws: close(1001) each, server.close()', quiesce: 'createNodeAdapter({ webSockets })' },
  bun: { bare: 'close(1001) each, stop(false)', quiesce: 'serveBun' },
  deno: { bare: 'server.shutdown()', quiesce: 'serveDeno + upgradeWebSocket' },
};
// Every Node row runs on each Node line asked for (--lines), Bun and Deno once.
const targets = targetsOf(settings);
const variants = targets.flatMap((target) =>
  ['bare', 'quiesce'].map((variant) => ({
    runtime: target.runtime,
    target,
    variant,
    key: `${target.key}-${variant}`,
    label: `${target.label} ${variant}`,
    shutdown: SHUTDOWN[target.runtime][variant],
  })),
);

/** The holder child: resolves once its WebSockets are open; `report(ms)` says how they ended. */
async function holdWebSockets(port, count) {
  const child = fork(holderScript, [String(port), String(count)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (what, ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`websocket holder: no ${what} within ${ms} ms`)), ms);
      child.once('message', (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`websocket holder exited (${code}) before its ${what}`));
      });
    });
  await next('ready message', 60_000);
  return {
    report: (ms) => {
      const answer = next('report', ms + 5_000);
      child.send({ report: ms });
      return answer;
    },
    kill: () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'),
  };
}

async function trial(v) {
  // Node servers also say how much CPU they spent from SIGTERM to exit (lib/shutdown-cpu.mjs).
  const env = v.runtime === 'node' ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${shutdownCpu}`.trim() } : {};
  const started = await onTarget(v.target, () => startServer({ runtime: v.runtime, script: server, env: { BENCH_VARIANT: v.variant, ...env }, timeoutMs: 30_000 }));
  const holder = await holdWebSockets(started.port, settings.connections);
  try {
    await sleep(200);
    const killedAt = performance.now();
    started.kill('SIGTERM');
    const exit = await Promise.race([started.exited, sleep(settings.exitTimeoutMs).then(() => undefined)]);
    const exitMs = exit ? performance.now() - killedAt : Number.NaN;
    if (!exit) await started.stop();
    const how = await holder.report(2_000);
    await sleep(50);
    const cpu = /^shutdown-cpu ([\d.]+)/.exec(started.lines.find((line) => line.startsWith('shutdown-cpu ')) ?? '');
    return {
      exitMs,
      cpuMs: cpu ? Number(cpu[1]) : Number.NaN,
      exitCode: exit ? (exit.signal ?? exit.code) : 'timeout',
      ...how,
      log: started.lines.filter((line) => line.startsWith('quiesce: shutdown')),
    };
  } finally {
    holder.kill();
  }
}

const trials = Object.fromEntries(variants.map((v) => [v.key, []]));
console.log(`Part 7 — shutdown latency with ${settings.connections} open WebSockets (${mode}). ${describeEnvironment()}`);
try {
  for (let r = 0; r < settings.rounds; r++) {
    for (const v of rotate(variants, r)) trials[v.key].push(await trial(v));
    console.log(`  round ${r + 1}/${settings.rounds}: exit ms ${variants.map((v) => `${v.key} ${round(trials[v.key].at(-1).exitMs, 1)}`).join(', ')}`);
  }
} finally {
  await killAllServers();
}

const range = (values) => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? `${round(Math.min(...finite), 0)}–${round(Math.max(...finite), 0)}` : undefined;
};
const sum = (list, key) => list.reduce((n, t) => n + (t[key] ?? 0), 0);
const codesOf = (list) => {
  const all = {};
  for (const t of list) for (const [code, n] of Object.entries(t.codes ?? {})) all[code] = (all[code] ?? 0) + n;
  return Object.entries(all)
    .map(([code, n]) => `${n}× ${code}`)
    .join(', ');
};

const rows = variants.map((v) => {
  const list = trials[v.key];
  const row = {
    runtime: v.runtime,
    variant: v.variant,
    key: v.key,
    label: v.label,
    on: v.target.on,
    shutdown: v.shutdown,
    exitMs: round(median(list.map((t) => t.exitMs)), 1),
    exitRange: range(list.map((t) => t.exitMs)),
    cpuMs: v.runtime === 'node' ? `${round(median(list.map((t) => t.cpuMs)), 1)} (${range(list.map((t) => t.cpuMs))})` : undefined,
    codes: codesOf(list),
    closedWith: `${sum(list, 'fin')} FIN / ${sum(list, 'reset')} RST${sum(list, 'open') ? ` / ${sum(list, 'open')} open` : ''}`,
    exitCodes: [...new Set(list.map((t) => t.exitCode))].join('/'),
  };
  if (v.variant === 'quiesce') {
    const bare = trials[`${v.target.key}-bare`];
    const ratios = list.map((t, i) => t.exitMs / bare[i]?.exitMs).filter(Number.isFinite);
    if (ratios.length) {
      row.ratio = { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), list: ratios };
      row.vsBare = `${row.ratio.median.toFixed(2)}× (${row.ratio.min.toFixed(2)}–${row.ratio.max.toFixed(2)})`;
    }
  }
  return row;
});

const columns = [
  { key: 'label', title: 'server', align: 'left' },
  { key: 'on', title: 'runs on', align: 'left' },
  { key: 'shutdown', title: 'on SIGTERM', align: 'left' },
  { key: 'exitMs', title: 'SIGTERM→exit ms' },
  { key: 'exitRange', title: 'rounds' },
  { key: 'vsBare', title: 'vs bare (rounds)', align: 'left' },
  { key: 'cpuMs', title: 'server CPU ms, SIGTERM→exit (rounds)' },
  { key: 'codes', title: 'Close codes received (all runs)', align: 'left' },
  { key: 'closedWith', title: 'connections ended with (all runs)', align: 'left' },
  { key: 'exitCodes', title: 'exit' },
];
console.log(`\n${formatTable(columns, rows)}`);
const total = settings.connections * settings.rounds;
const goals = [];
const checks = createChecks('part 7');
for (const v of variants.filter((x) => x.variant === 'quiesce')) {
  const row = rows.find((r) => r.key === v.key);
  const list = trials[v.key];
  const not1001 = total - (list.reduce((n, t) => n + (t.codes?.['1001'] ?? 0), 0));
  const notFin = total - sum(list, 'fin');
  const common = { part: PART.part, target: v.target, row: v.label, digits: 0 };
  goals.push(
    goalRecord({ ...common, metric: 'WebSockets without a 1001 Close', measure: `WebSockets without a 1001 Close frame of ${total}`, goal: '0', value: not1001, verdict: verdictAtMost(not1001, 0) }),
    goalRecord({ ...common, metric: 'connections not ended with FIN', measure: `connections not ended with FIN of ${total}`, goal: '0', value: notFin, verdict: verdictAtMost(notFin, 0) }),
  );
  if (row.ratio) {
    goals.push(
      goalRecord({
        ...common,
        metric: 'exit vs bare',
        measure: 'SIGTERM→exit vs bare',
        goal: '≤ 1.10×',
        value: row.ratio.median,
        unit: '×',
        digits: 2,
        range: row.ratio,
        noise: ratioNoise(row.ratio.list),
        verdict: verdictAtMost(row.ratio.median, 1.1, ratioNoise(row.ratio.list), list.length),
      }),
    );
  }
  // Correctness: every socket told 1001 and closed with FIN, every exit 0 (never a time). The exit
  // ratio has no bare-vs-bare control here: its noise is twice the rounds' standard error.
  checks.expect(not1001 === 0, `${v.label}: ${not1001} WebSockets without a 1001 Close frame (${row.codes})`);
  checks.expect(notFin === 0, `${v.label}: ${notFin} connections not ended with FIN (${row.closedWith})`);
  checks.expect(row.exitCodes === '0', `${v.label}: exit ${row.exitCodes}`);
}
printGoals(goals, mode);
for (const v of variants.filter((x) => x.variant === 'quiesce')) console.log(`${v.key} report: ${trials[v.key][0]?.log[0] ?? '-'}`);

/**
 * The chart: SIGTERM→exit per target, bare beside Quiesce (median, whisker over the rounds), the goal
 * (1.1× the bare median of that target) across each group.
 */
function websocketChart() {
  const bar = (v) => {
    const finite = trials[v.key].map((t) => t.exitMs).filter(Number.isFinite);
    return { label: v.variant, value: median(finite), min: Math.min(...finite), max: Math.max(...finite), kind: v.variant === 'quiesce' ? 'quiesce' : 'bare' };
  };
  return {
    title: `Part 7 — SIGTERM with ${settings.connections} open WebSockets`,
    note: `SIGTERM→exit, median of ${settings.rounds} rounds (whiskers: the rounds' range); every socket must get 1001 and FIN`,
    goalLegend: 'goal: Quiesce ≤ 1.1× the bare server',
    panels: [
      {
        title: 'SIGTERM→exit ms',
        unit: ' ms',
        digits: 1,
        groups: targets.map((t) => {
          const bars = variants.filter((v) => v.target.key === t.key && trials[v.key].some((x) => Number.isFinite(x.exitMs))).map(bar);
          const bare = bars.find((b) => b.kind === 'bare');
          return { label: t.on, goal: bare ? { value: bare.value * 1.1, label: '1.1× bare' } : undefined, bars };
        }),
      },
    ],
  };
}

const file = writeResult(PART.name, {
  mode,
  title: PART.title,
  part: PART.part,
  targets,
  goals,
  chart: websocketChart(),
  settings,
  columns,
  rows: rows.map(({ ratio, ...row }) => row),
  notes: [
    'Goal: every WebSocket gets a Close frame with 1001 and its connection ends with FIN; Quiesce exits within 1.1× of the bare server of its runtime in the same run (median of per-round ratios, with the range over rounds).',
    'The clients (one process, raw RFC 6455 over node:net) answer every Close frame with their own, as browsers do, and run during the shutdown: both sides wait for that answer.',
    'Bare servers: Node ws + every client.close(1001) + server.close() (exit in its callback); Bun every ws.close(1001) + stop(false) (stop(false) alone waits forever while a WebSocket is open, oven-sh/bun#34961); Deno server.shutdown(), which closes WebSockets with 1001 itself.',
    'Every Quiesce server runs createLifecycle with its defaults (lame duck 0, deadline 10 s).',
    'server CPU ms (Node) = user+system CPU time of the server from SIGTERM to exit (lib/shutdown-cpu.mjs): the machine\'s other work stretches wall time much more than it stretches CPU time.',
  ],
  raw: Object.fromEntries(Object.entries(trials).map(([k, list]) => [k, list.map(({ log, ...t }) => t)])),
});
console.log(`wrote ${file}`);
checks.finish();
