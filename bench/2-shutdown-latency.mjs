#!/usr/bin/env node
// Part 2 — shutdown latency.
// A. Idle: `connections` keep-alive connections (one request each) left idle for `idleMs` (longer
//    than Quiesce's 250 ms idle grace: "long-idle"), no request in flight; SIGTERM; time to process
//    exit, and how each socket was closed (FIN or RST). The clients are a process of their own,
//    stopped while the shutdown is timed (lib/idle-clients.mjs says why).
// B. One in flight: a single keep-alive connection with a /slow request in flight at SIGTERM; time
//    from its response (as the client read it) to process exit (bare Node 20 waits for its
//    keep-alive timeout, ~6 s).
// Goal, on both measures: Quiesce no slower than the fastest peer of its runtime in the same run
// (Node: bare server.close(), http-terminator, terminus, stoppable; Bun / Deno: the bare server),
// every idle socket closed with FIN; the distance to the floor row (process.exit()) is shown as a
// ratio. Ratios are medians of per-round ratios (each round runs every server once, in an order
// that rotates from round to round), with the rounds' range.
// Each trial starts a fresh server. Node servers also report the CPU time they spent from SIGTERM to
// exit, and the garbage collection in it (lib/shutdown-cpu.mjs): on a busy machine wall times
// spread widely, CPU time much less. Every Node row runs on each Node line asked for (--lines), Bun
// and Deno once; a round runs every server of every line, so the lines share the machine's moods.
// A second bare server per target ("bare (2nd)") is the noise control: a goal is called met or
// missed only when Quiesce's ratio clears how far bare vs bare lands from 1 (and twice the standard
// error of the rounds' ratios).
import { fileURLToPath } from 'node:url';
import { createChecks } from './lib/checks.mjs';
import { parseArgs, sleep } from './lib/cli.mjs';
import { ensureFdLimit } from './lib/fd-limit.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { goalRecord, printGoals, ratioNoise, spread, verdictAtMost } from './lib/goals.mjs';
import { killAllServers, openConnection } from './lib/harness.mjs';
import { holdIdleConnections } from './lib/idle-clients.mjs';
import { writeResult } from './lib/results.mjs';
import { median, rotate, round } from './lib/stats.mjs';
import { formatTable } from './lib/table.mjs';
import { peersOf as peerRowsOf, selectVariants, startVariant, targetsOf } from './lib/variants.mjs';
import { runHttp2Latency } from './lib/http2-rows.mjs';

const PART = { part: 2, name: 'shutdown-latency', title: 'Part 2 — shutdown latency' };

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: {
    rounds: 5,
    connections: 1_000,
    idleMs: 1_000,
    slowMs: 300,
    signalAfterMs: 100,
    lameDuckMs: 300,
    exitTimeoutMs: 15_000,
  },
  smoke: { rounds: 1, connections: 100, idleMs: 400, exitTimeoutMs: 8_000 },
  help:
    'node bench/2-shutdown-latency.mjs [--smoke] [--runtimes=node,bun,deno] [--lines=all|default|20,22,24,26] [--rounds=5] [--connections=1000] [--idle-ms=1000]\n' +
    '  [--slow-ms=300] [--signal-after-ms=100] [--lame-duck-ms=300] [--exit-timeout-ms=15000]',
});

// The idle holder (a child, which inherits the limit) holds every client socket: 1 000 is past the
// usual default `ulimit -n` of 1 024.
ensureFdLimit(settings.connections + 500);

const targets = targetsOf(settings);
const variants = [];
for (const v of selectVariants(targets, { part: PART.name })) {
  variants.push(v);
  if (v.kind === 'bare') {
    // The noise control: a second, identical bare server (of each protocol), measured the same way.
    variants.push({ ...v, key: `${v.key}-2`, label: `${v.label} (2nd)`, kind: 'control', control: true });
    if (v.runtime === 'node' && v.variant === 'bare') {
      // The floor: exits the moment nothing is in flight; idle sockets are closed by the kernel at exit.
      variants.splice(variants.length - 2, 0, { ...v, variant: 'exit', key: `${v.target.key}-exit`, label: `${v.target.label} floor: process.exit()`, kind: 'floor', floor: true });
    }
  }
  if (v.kind === 'quiesce' && !v.pending) {
    variants.push({
      ...v,
      key: `${v.key}-lame-duck`,
      label: `${v.label}, lame duck ${settings.lameDuckMs} ms`,
      lameDuckMs: settings.lameDuckMs,
      idleOnly: true,
    });
  }
}
const runnable = variants.filter((v) => !v.pending);

const shutdownCpu = fileURLToPath(new URL('./lib/shutdown-cpu.mjs', import.meta.url));
/** Starts a server of `v`; Node servers get the shutdown-CPU preload. */
function start(v, env = {}) {
  if (v.runtime !== 'node') return startVariant(v, env);
  return startVariant(v, { ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${shutdownCpu}`.trim() });
}

/**
 * The preload's report: shutdown CPU (ms) and V8's collections between SIGTERM and exit (its
 * --trace-gc lines), `{ cpuMs, gcCount, gcMs }`. The last lines may come in just after the exit.
 */
async function cpuOf(v, server) {
  const none = { cpuMs: Number.NaN, gcCount: undefined, gcMs: Number.NaN };
  if (v.runtime !== 'node') return none;
  for (let i = 0; i < 20; i++) {
    const from = server.lines.indexOf('shutdown-cpu-start');
    const end = server.lines.findIndex((line) => line.startsWith('shutdown-cpu '));
    if (from >= 0 && end > from) {
      // e.g. "[1234:0x5e0]   1556 ms: Scavenge 12.0 (16.2) -> 10.0 (17.2) MB, 3.45 / 0.00 ms  (average mu …"
      const gcs = server.lines
        .slice(from + 1, end)
        .map((line) => /ms: [A-Za-z-]+.*?, ([\d.]+) \/ [\d.]+ ms/.exec(line)?.[1])
        .filter(Boolean);
      return { cpuMs: Number(server.lines[end].slice('shutdown-cpu '.length)), gcCount: gcs.length, gcMs: gcs.reduce((sum, ms) => sum + Number(ms), 0) };
    }
    await sleep(25);
  }
  return none;
}

/**
 * Waits for the exit, at most `exitTimeoutMs`; then kills the server and says so. `exitedAt` is read
 * here, a microtask after the child's exit event (the harness's `afterMs` is whole milliseconds).
 */
async function exitOf(server) {
  const exit = await Promise.race([server.exited, sleep(settings.exitTimeoutMs).then(() => undefined)]);
  if (exit) return { ...exit, exitedAt: performance.now() };
  await server.stop();
  return undefined;
}

async function idleTrial(v) {
  const server = await start(v, { QUIESCE_LAME_DUCK_MS: String(v.lameDuckMs ?? 0) });
  const clients = await (v.client?.holdIdleConnections ?? holdIdleConnections)(server.port, settings.connections);
  try {
    await sleep(settings.idleMs);
    clients.pause();
    const killedAt = performance.now();
    server.kill('SIGTERM');
    const exit = await exitOf(server);
    const exitMs = exit ? exit.exitedAt - killedAt : Number.NaN;
    const how = await clients.report(1_000);
    const log = server.lines.filter((l) => /quiesce:/.test(l));
    return {
      exitMs,
      ...(await cpuOf(v, server)),
      afterLameDuckMs: exitMs - (v.lameDuckMs ?? 0),
      // Only Quiesce says how many idle sockets it closed itself; the kernel closes the rest at exit.
      // (On Bun and Deno the runtime's stop() / shutdown() closes them: Quiesce cannot see their sockets.)
      closedByServer: v.runtime === 'node' ? Number(/sockets (\d+) idle-closed/.exec(log.join('\n'))?.[1] ?? Number.NaN) : Number.NaN,
      fin: how.fin,
      reset: how.reset,
      other: how.other + how.open,
      exitCode: exit ? (exit.signal ?? exit.code) : 'timeout',
      log,
    };
  } finally {
    clients.kill();
  }
}

async function inFlightTrial(v) {
  const server = await start(v);
  const connection = await (v.client?.openConnection ?? openConnection)(server.port);
  const pending = connection.request({ path: `/slow?ms=${settings.slowMs}`, timeoutMs: settings.exitTimeoutMs });
  pending.catch(() => {});
  await sleep(settings.signalAfterMs);
  const killedAt = performance.now();
  server.kill('SIGTERM');
  let response;
  let failure;
  try {
    response = await pending;
  } catch (error) {
    failure = error.kind ? `lost (${error.kind})` : error.name;
  }
  const respondedAt = performance.now();
  const exit = await exitOf(server);
  const closedBy = await connection.waitForClose(1_000);
  connection.destroy();
  return {
    responseToExitMs: exit && response ? exit.exitedAt - respondedAt : Number.NaN,
    exitMs: exit ? exit.exitedAt - killedAt : Number.NaN,
    ...(await cpuOf(v, server)),
    status: response?.status ?? failure,
    connectionClose: response?.connectionClose ?? false,
    closedBy,
    exitCode: exit ? (exit.signal ?? exit.code) : 'timeout',
    log: server.lines.filter((l) => /quiesce:/.test(l)),
  };
}

const trials = Object.fromEntries(runnable.map((v) => [v.key, { idle: [], inFlight: [] }]));
console.log(`${PART.title} (${mode}). ${describeEnvironment()}`);
console.log(`Runs on: ${targets.map((t) => t.on).join(', ')} (clients on node ${process.versions.node}).`);
try {
  for (let r = 0; r < settings.rounds; r++) {
    // One trial of every server per round, in an order that rotates, so that whatever the machine
    // does meanwhile (other work, the bench's own GC) does not always land on the same server.
    for (const v of rotate(runnable, r)) trials[v.key].idle.push(await idleTrial(v));
    for (const v of rotate(runnable.filter((x) => !x.idleOnly), r)) trials[v.key].inFlight.push(await inFlightTrial(v));
    console.log(
      `  round ${r + 1}/${settings.rounds}: idle exit ms ${runnable.map((v) => `${v.key} ${round(trials[v.key].idle.at(-1).exitMs, 1)}`).join(', ')}`,
    );
  }
} finally {
  await killAllServers();
}

/** `min–max` of `values` (ms), or undefined. */
const range = (values, digits = 1) => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? `${round(Math.min(...finite), digits)}–${round(Math.max(...finite), digits)}` : undefined;
};
/** The peers of a Quiesce row: the bare and anchor servers of its target and protocol (not the floor, not the control). */
const peersOf = (v) => peerRowsOf(v, runnable);
const floorOf = (v) => runnable.find((p) => p.target.key === v.target.key && p.floor);
const controlOf = (v) => runnable.find((p) => p.target.key === v.target.key && p.protocol === v.protocol && p.control);
/** Per-round ratios of `key` (a trial field) of `v` over `other`: { median, min, max, ratios }. */
function roundRatios(v, other, list, key, ownKey = key) {
  const mine = trials[v.key][list];
  const theirs = trials[other.key][list];
  const ratios = mine.map((t, i) => t[ownKey] / theirs[i]?.[key]).filter(Number.isFinite);
  return ratios.length ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ratios } : undefined;
}
const fmtRatio = (r) => (r ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : undefined);
/** The fastest peer of `v` on `list`/`key` by median, with the ratio of `v` over it. */
function againstFastest(v, list, key, ownKey = key) {
  const peers = peersOf(v).filter((p) => !(list === 'inFlight' && p.idleOnly));
  if (peers.length === 0) return undefined;
  const fastest = peers.reduce((a, b) => (median(trials[b.key][list].map((t) => t[key])) < median(trials[a.key][list].map((t) => t[key])) ? b : a));
  const mine = median(trials[v.key][list].map((t) => t[ownKey]));
  const theirs = median(trials[fastest.key][list].map((t) => t[key]));
  return { peer: fastest, mine, theirs, ratio: roundRatios(v, fastest, list, key, ownKey) };
}

const rows = [];
const goals = [];
const checks = createChecks('part 2');
const sum = (list, key) => list.reduce((n, t) => n + t[key], 0);
for (const v of variants) {
  const base = { target: v.target.key, on: v.on, runtime: v.runtime, variant: v.variant, kind: v.kind, key: v.key, label: v.label };
  if (v.pending) {
    rows.push({ ...base, shutdown: v.shutdown, note: v.pending });
    continue;
  }
  const { idle, inFlight } = trials[v.key];
  const codes = [...new Set([...idle, ...inFlight].map((t) => t.exitCode))].join('/');
  rows.push({
    ...base,
    shutdown: v.floor ? 'process.exit()' : v.shutdown,
    idleExitMs: round(median(idle.map((t) => t.exitMs)), 1),
    idleRange: range(idle.map((t) => t.exitMs), 0),
    idleCpuMs: v.runtime === 'node' ? `${round(median(idle.map((t) => t.cpuMs)), 1)} (${range(idle.map((t) => t.cpuMs))})` : undefined,
    idleGc: v.runtime === 'node' ? `${round(median(idle.map((t) => t.gcMs)), 1)} (${idle.filter((t) => t.gcCount > 0).length}/${idle.length})` : undefined,
    idleAfterLameDuckMs: v.lameDuckMs ? round(median(idle.map((t) => t.afterLameDuckMs)), 1) : undefined,
    idleClosedByServer: idle.every((t) => Number.isNaN(t.closedByServer)) ? undefined : `${sum(idle, 'closedByServer')}`,
    closedWith: `${sum(idle, 'fin')} FIN / ${sum(idle, 'reset')} RST${sum(idle, 'other') ? ` / ${sum(idle, 'other')} other` : ''}`,
    responseToExitMs: v.idleOnly ? undefined : round(median(inFlight.map((t) => t.responseToExitMs)), 1),
    responseRange: v.idleOnly ? undefined : range(inFlight.map((t) => t.responseToExitMs)),
    inFlightStatus: v.idleOnly ? undefined : [...new Set(inFlight.map((t) => t.status))].join('/'),
    inFlightConnectionClose: v.idleOnly ? undefined : inFlight.every((t) => t.connectionClose) ? 'yes' : inFlight.some((t) => t.connectionClose) ? 'some' : 'no',
    exitCodes: codes,
    note: v.floor ? 'not graceful (exits when nothing is in flight): the cost of exiting' : v.control ? 'noise control: a second bare server' : undefined,
  });
  if (v.kind === 'quiesce') {
    const row = rows.at(-1);
    // Idle: after the lame duck for the lame-duck row (its peers have none).
    const idleKey = v.lameDuckMs ? 'afterLameDuckMs' : 'exitMs';
    const idle = againstFastest(v, 'idle', 'exitMs', idleKey);
    const response = v.idleOnly ? undefined : againstFastest(v, 'inFlight', 'responseToExitMs');
    const floor = floorOf(v);
    const control = controlOf(v);
    const bare = control && runnable.find((p) => p.key === control.key.replace(/-2$/, ''));
    row.idleVsFastest = idle && `${fmtRatio(idle.ratio)} ${idle.peer.variant}`;
    row.responseVsFastest = response && `${fmtRatio(response.ratio)} ${response.peer.variant}`;
    const idleFloor = floor && roundRatios(v, floor, 'idle', 'exitMs', idleKey);
    const responseFloor = floor && !v.idleOnly ? roundRatios(v, floor, 'inFlight', 'responseToExitMs') : undefined;
    if (floor) {
      row.vsFloor = [idleFloor && `idle ${idleFloor.median.toFixed(2)}×`, responseFloor && `response→exit ${responseFloor.median.toFixed(2)}×`].filter(Boolean).join(', ');
    }
    // Noise: how far a second bare server lands from the first, per round, and the rounds' spread.
    const controlIdle = control && bare ? roundRatios(control, bare, 'idle', 'exitMs')?.ratios : undefined;
    const controlResponse = control && bare ? roundRatios(control, bare, 'inFlight', 'responseToExitMs')?.ratios : undefined;
    const record = (metric, measure, against, controlRatios, floorRatio) => {
      const noise = ratioNoise(against.ratio.ratios, controlRatios);
      const value = against.ratio.median;
      return goalRecord({
        part: PART.part,
        target: v.target,
        row: v.label,
        metric,
        measure: `${measure} vs the fastest peer (${against.peer.variant})`,
        goal: '≤ 1.00× (no slower)',
        value,
        unit: '×',
        digits: 2,
        range: against.ratio,
        noise,
        verdict: verdictAtMost(value, 1, noise, against.ratio.ratios.length),
        detail: `${round(against.mine, 1)} ms vs ${round(against.theirs, 1)} ms${floorRatio ? `; ${floorRatio.median.toFixed(2)}× the floor` : ''}${controlRatios?.length ? `; bare vs bare ${median(controlRatios).toFixed(2)}×` : ''}`,
      });
    };
    if (idle?.ratio) {
      const measure = v.lameDuckMs ? `idle exit after the ${v.lameDuckMs} ms lame duck` : 'idle exit';
      goals.push(record(`${measure} vs fastest peer`, measure, idle, controlIdle, idleFloor));
    }
    if (response?.ratio) goals.push(record('response→exit vs fastest peer', 'response→exit', response, controlResponse, responseFloor));
    // Correctness, never timing: every idle socket closed with FIN, exit 0, the in-flight request answered.
    const allFin = idle && trials[v.key].idle.every((t) => t.reset === 0 && t.other === 0 && t.fin === settings.connections);
    checks.expect(allFin, `${v.label}: idle sockets not all closed with FIN (${row.closedWith})`);
    checks.expect(codes === '0', `${v.label}: exit code(s) ${codes}, expected 0`);
    if (!v.idleOnly) {
      checks.expect(row.inFlightStatus === '200', `${v.label}: the request in flight at SIGTERM got ${row.inFlightStatus}, expected 200`);
      checks.expect(row.inFlightConnectionClose === 'yes', `${v.label}: the response in flight at SIGTERM did not always say Connection: close`);
    }
  }
}

const columns = [
  { key: 'label', title: 'server', align: 'left' },
  { key: 'on', title: 'runs on', align: 'left' },
  { key: 'shutdown', title: 'on SIGTERM', align: 'left' },
  { key: 'idleExitMs', title: `idle: exit ms` },
  { key: 'idleRange', title: 'rounds' },
  { key: 'idleAfterLameDuckMs', title: 'after lame duck' },
  { key: 'idleVsFastest', title: 'idle vs fastest peer (rounds)', align: 'left' },
  { key: 'idleCpuMs', title: 'idle: server CPU ms (rounds)' },
  { key: 'idleGc', title: 'of it GC ms (rounds with GC)' },
  { key: 'idleClosedByServer', title: 'closed by the server (all runs)' },
  { key: 'closedWith', title: `${settings.connections} idle sockets closed with (all runs)`, align: 'left' },
  { key: 'responseToExitMs', title: 'in flight: response→exit ms' },
  { key: 'responseRange', title: 'rounds' },
  { key: 'responseVsFastest', title: 'response→exit vs fastest peer (rounds)', align: 'left' },
  { key: 'vsFloor', title: 'vs floor', align: 'left' },
  { key: 'inFlightStatus', title: 'status' },
  { key: 'inFlightConnectionClose', title: 'Connection: close' },
  { key: 'exitCodes', title: 'exit' },
  { key: 'note', title: 'note', align: 'left' },
];
console.log(`\n${formatTable(columns, rows)}`);
printGoals(goals, mode);
for (const row of runnable.filter((r) => r.kind === 'quiesce')) {
  for (const peer of peersOf(row)) {
    const idleKey = row.lameDuckMs ? 'afterLameDuckMs' : 'exitMs';
    const idle = roundRatios(row, peer, 'idle', 'exitMs', idleKey);
    const response = !row.idleOnly && !peer.idleOnly ? roundRatios(row, peer, 'inFlight', 'responseToExitMs') : undefined;
    const cpu = row.runtime === 'node' ? roundRatios(row, peer, 'idle', 'cpuMs') : undefined;
    console.log(
      `  ${row.label} vs ${peer.label}: idle ${fmtRatio(idle) ?? '-'}${response ? `, response→exit ${fmtRatio(response)}` : ''}${cpu ? `, idle server CPU ${fmtRatio(cpu)}` : ''}`,
    );
  }
}
const quiesceLogs = Object.entries(trials)
  .filter(([key]) => key.includes('quiesce'))
  .map(([key, t]) => ({ key, idle: t.idle.flatMap((x) => x.log), inFlight: t.inFlight.flatMap((x) => x.log) }));
for (const { key, idle, inFlight } of quiesceLogs) {
  console.log(`${key} report (idle): ${idle[0] ?? '-'}`);
  if (inFlight[0]) console.log(`${key} report (in flight): ${inFlight[0]}`);
}

/** The chart's bars of one target: median and range over rounds; the goal line at its fastest peer. */
function chartGroup(target, list, ownKey) {
  const members = runnable.filter((v) => v.target.key === target.key && !(list === 'inFlight' && v.idleOnly));
  const bars = members.map((v) => {
    const s = spread(trials[v.key][list].map((t) => t[ownKey(v)]));
    const name = v.floor ? 'floor' : v.label.slice(target.label.length + 1);
    return { label: v.lameDuckMs ? `${name.replace(/, lame duck.*/, '')}, after lame duck` : name, value: s?.median ?? Number.NaN, min: s?.min, max: s?.max, kind: v.kind };
  });
  const quiesce = members.find((v) => v.kind === 'quiesce');
  const fastest = quiesce && againstFastest(quiesce, list, ownKey(quiesce) === 'afterLameDuckMs' ? 'exitMs' : ownKey(quiesce));
  return { label: target.on, bars, goal: fastest ? { value: fastest.theirs, label: `fastest peer (${fastest.peer.variant})` } : undefined };
}
const file = writeResult(PART.name, {
  ...PART,
  mode,
  settings,
  targets,
  columns,
  rows,
  goals,
  chart: {
    title: `${PART.title}: SIGTERM to exit`,
    note: `median of ${settings.rounds} rounds (each round runs every server once, in a rotating order); ${settings.connections} idle keep-alive sockets`,
    goalLegend: 'goal: no slower than the fastest peer',
    panels: [
      { title: `idle: SIGTERM → exit, ${settings.connections} idle sockets (ms)`, unit: ' ms', digits: 1, groups: targets.map((t) => chartGroup(t, 'idle', (v) => (v.lameDuckMs ? 'afterLameDuckMs' : 'exitMs'))) },
      { title: 'one request in flight: its response → exit (ms)', unit: ' ms', digits: 1, groups: targets.map((t) => chartGroup(t, 'inFlight', () => 'responseToExitMs')) },
    ],
  },
  notes: [
    'Goal: Quiesce no slower than the fastest peer of its runtime and line in the same run (idle exit and response→exit), all FIN. vs fastest peer / vs floor = median of per-round ratios (each round runs every server once, in a rotating order), with the range over rounds. Called met or missed only beyond the noise: how far a second bare server lands from the first (bare (2nd)) and twice the standard error of the rounds.',
    `runs on: the runtime and line of the server; the clients always run on node ${process.versions.node}.`,
    'idle: exit ms = SIGTERM to process exit as the parent sees it. The idle clients live in a process of their own, stopped (SIGSTOP) while the shutdown is timed, as remote clients would be; they report afterwards how each socket was closed.',
    'in flight: response→exit = the client reading the complete response to the process exit.',
    'idle: server CPU ms = user+system CPU time of the server from SIGTERM to exit (Node, process.cpuUsage() in a preload, lib/shutdown-cpu.mjs); of it GC ms = V8 garbage collection in that window (median; --trace-gc), which runs or not depending on how full the young generation happens to be at SIGTERM.',
    `Every wrapper gets a ${10_000} ms deadline; Quiesce runs createLifecycle with lameDuckMs 0 unless the row says otherwise.`,
    'After a process exits, the kernel closes what is left with FIN, so FIN counts alone do not prove a graceful close; "closed by the server" is what Quiesce reports it closed itself before exiting (the others do not say).',
  ],
  raw: Object.fromEntries(Object.entries(trials).map(([k, t]) => [k, { idle: t.idle.map(({ log, ...x }) => x), inFlight: t.inFlight.map(({ log, ...x }) => x) }])),
});
console.log(`wrote ${file}`);

// HTTP/2: idle sessions and a stream in flight, on each Node line and on Deno (lib/http2-rows.mjs).
await runHttp2Latency(settings, mode, { targets, checks });
checks.finish();
