#!/usr/bin/env node
// Part 4 — the keep-alive race. `clients` clients send requests back to back on keep-alive
// connections; SIGTERM arrives mid-loop. Every attempt is classified by the conformance harness:
// ok; refused (nothing was sent: the listener had closed, safe to retry); ambiguous (a request was
// written, then the socket reset or closed without a response: the client cannot know whether it
// ran). Every Node row runs on each Node line asked for (--lines), Bun and Deno once; each round runs
// every server once, in a rotating order. Goal: 0 ambiguous failures for Quiesce on every runtime
// and line (every anchor loses one request per client). A Quiesce trial that lost requests while
// the load client itself stalled (≥ 100 ms: its event loop held up, so it cannot tell a server
// fault from its own) is run again, at most twice, as the conformance suite does; the table says so.
import { createChecks } from './lib/checks.mjs';
import { parseArgs, sleep } from './lib/cli.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { goalRecord, printGoals, spread, verdictAtMost } from './lib/goals.mjs';
import { assertClientKeptUp, killAllServers, runKeepAliveLoad } from './lib/harness.mjs';
import { writeResult } from './lib/results.mjs';
import { median, rotate, round } from './lib/stats.mjs';
import { formatTable } from './lib/table.mjs';
import { selectVariants, startVariant, targetsOf } from './lib/variants.mjs';
import { runHttp2Race } from './lib/http2-rows.mjs';

const PART = { part: 4, name: 'keep-alive-race', title: 'Part 4 — the keep-alive race' };
const STALL_RETRIES = 2;

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: {
    rounds: 5,
    clients: 20,
    path: '/',
    signalAfterMs: 500,
    exitWaitMs: 3_000,
    afterExitMs: 200,
    maxRequests: 500_000,
    maxDurationMs: 20_000,
  },
  smoke: { rounds: 1, signalAfterMs: 300, exitWaitMs: 2_000 },
  help:
    'node bench/4-keep-alive-race.mjs [--smoke] [--runtimes=node,bun,deno] [--lines=all|default|20,22,24,26] [--rounds=5] [--clients=20] [--path=/]\n' +
    '  [--signal-after-ms=500] [--exit-wait-ms=3000] [--after-exit-ms=200] [--max-requests=500000] [--max-duration-ms=20000]',
});

async function trial(v) {
  const server = await startVariant(v);
  const stop = new AbortController();
  const load = (v.client?.runKeepAliveLoad ?? runKeepAliveLoad)({
    port: server.port,
    clients: settings.clients,
    path: settings.path,
    until: stop.signal,
    maxRequests: settings.maxRequests,
    maxDurationMs: settings.maxDurationMs,
  });
  await sleep(settings.signalAfterMs);
  server.kill('SIGTERM');
  const exit = await Promise.race([server.exited, sleep(settings.exitWaitMs).then(() => undefined)]);
  // Let clients whose connection closed reconnect and be refused.
  await sleep(settings.afterExitMs);
  stop.abort();
  const result = await load;
  await server.stop();
  const { totals } = result;
  let stalled;
  try {
    assertClientKeptUp(result);
  } catch (error) {
    if (error.code !== 'QUIESCE_CONFORMANCE_CLIENT_STALLED') throw error;
    stalled = error.stalledMs;
  }
  return {
    attempts: totals.attempts,
    ok: totals.ok,
    refused: totals.refused,
    ambiguous: totals.ambiguous,
    ambiguousByKind: totals.ambiguousByKind,
    error: totals.error,
    connectionCloseResponses: totals.connectionCloseResponses,
    clientsWithLoss: result.clients.filter((c) => c.ambiguous > 0).length,
    clientStalledMs: stalled,
    exitMs: exit?.afterMs ?? Number.NaN,
    exitCode: exit ? (exit.signal ?? exit.code) : `still running after ${settings.exitWaitMs} ms`,
    firstFailures: result.failures.slice(0, 3).map((f) => `${f.outcome}${f.kind ? `/${f.kind}` : ''} @${f.atMs}ms`),
  };
}

const targets = targetsOf(settings);
const variants = selectVariants(targets, { part: PART.name });
const runnable = variants.filter((v) => !v.pending);
const trials = Object.fromEntries(runnable.map((v) => [v.key, []]));
const setAside = Object.fromEntries(runnable.map((v) => [v.key, []]));
console.log(`${PART.title} (${mode}), ${settings.clients} clients on ${settings.path}. ${describeEnvironment()}`);
console.log(`Runs on: ${targets.map((t) => t.on).join(', ')} (clients on node ${process.versions.node}).`);
try {
  for (let r = 0; r < settings.rounds; r++) {
    for (const v of rotate(runnable, r)) {
      let t = await trial(v);
      // A lossy Quiesce trial whose client stalled says nothing about the server: run it again.
      for (let retry = 0; v.kind === 'quiesce' && t.clientStalledMs !== undefined && retry < STALL_RETRIES; retry++) {
        console.log(`  ${v.label}: ${t.ambiguous + t.error} lost while the load client stalled ${round(t.clientStalledMs)} ms: set aside, run again`);
        setAside[v.key].push(t);
        t = await trial(v);
      }
      trials[v.key].push(t);
      console.log(
        `  round ${r + 1}/${settings.rounds} ${v.label}: ${t.ok} ok, ${t.refused} refused, ${t.ambiguous} ambiguous ` +
          `(${t.clientsWithLoss}/${settings.clients} clients lost a request), exit ${t.exitMs} ms`,
      );
    }
  }
} finally {
  await killAllServers();
}

const rows = [];
const goals = [];
const checks = createChecks('part 4');
const bars = Object.fromEntries(targets.map((t) => [t.key, []]));
for (const v of variants) {
  const base = { target: v.target.key, on: v.on, runtime: v.runtime, variant: v.variant, kind: v.kind, label: v.label, shutdown: v.shutdown };
  if (v.pending) {
    rows.push({ ...base, note: v.pending });
    continue;
  }
  const list = trials[v.key];
  const kinds = {};
  for (const t of list) for (const [k, n] of Object.entries(t.ambiguousByKind)) kinds[k] = (kinds[k] ?? 0) + n;
  const total = list.reduce((n, t) => n + t.ambiguous, 0);
  const exitCodes = [...new Set(list.map((t) => t.exitCode))].join('/');
  rows.push({
    ...base,
    ambiguous: round(median(list.map((t) => t.ambiguous))),
    ambiguousTotal: `${total} in ${list.length}`,
    ambiguousKinds: Object.entries(kinds).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || '-',
    clientsWithLoss: `${round(median(list.map((t) => t.clientsWithLoss)))}/${settings.clients}`,
    refused: round(median(list.map((t) => t.refused))),
    ok: round(median(list.map((t) => t.ok))),
    connectionClose: round(median(list.map((t) => t.connectionCloseResponses))),
    exitMs: round(median(list.map((t) => t.exitMs))),
    exitCodes,
    errors: list.reduce((n, t) => n + t.error, 0),
    note: setAside[v.key].length ? `${setAside[v.key].length} trial(s) set aside: the load client stalled` : undefined,
  });
  const s = spread(list.map((t) => t.ambiguous));
  bars[v.target.key].push({ label: v.label.slice(v.target.label.length + 1), value: s?.median ?? Number.NaN, min: s?.min, max: s?.max, kind: v.kind });
  if (v.kind !== 'quiesce') continue;
  goals.push(
    goalRecord({
      part: PART.part,
      target: v.target,
      row: v.label,
      metric: 'ambiguous failures',
      measure: `ambiguous failures in ${list.length} runs of ${settings.clients} clients`,
      goal: '0',
      value: total,
      digits: 0,
      verdict: verdictAtMost(total, 0),
      detail: rows.at(-1).ambiguousKinds === '-' ? undefined : rows.at(-1).ambiguousKinds,
    }),
  );
  // Correctness: nothing lost, and the server exited 0 (a count and an exit code, never a time).
  checks.expect(total === 0, `${v.label}: ${total} ambiguous failures (${rows.at(-1).ambiguousKinds})`);
  checks.expect(rows.at(-1).errors === 0, `${v.label}: ${rows.at(-1).errors} requests failed otherwise`);
  checks.expect(exitCodes === '0', `${v.label}: exit code(s) ${exitCodes}, expected 0`);
}
const columns = [
  { key: 'label', title: 'server', align: 'left' },
  { key: 'on', title: 'runs on', align: 'left' },
  { key: 'shutdown', title: 'on SIGTERM', align: 'left' },
  { key: 'ambiguous', title: 'ambiguous (median)' },
  { key: 'ambiguousTotal', title: 'total in runs' },
  { key: 'clientsWithLoss', title: 'clients that lost one' },
  { key: 'ambiguousKinds', title: 'how', align: 'left' },
  { key: 'refused', title: 'refused (retry-safe)' },
  { key: 'ok', title: 'ok' },
  { key: 'connectionClose', title: 'Connection: close' },
  { key: 'exitMs', title: 'exit ms' },
  { key: 'exitCodes', title: 'exit' },
  { key: 'note', title: 'note', align: 'left' },
];
console.log(`\n${formatTable(columns, rows)}`);
printGoals(goals, mode);
const file = writeResult(PART.name, {
  ...PART,
  mode,
  settings,
  targets,
  columns,
  rows,
  goals,
  chart: {
    title: `${PART.title}: ${settings.clients} keep-alive clients, SIGTERM mid-loop`,
    note: `ambiguous failures per run (a request written, then reset or closed without a response); median of ${settings.rounds} runs`,
    goalLegend: 'goal: 0 for Quiesce',
    panels: [{ title: 'ambiguous failures per run', digits: 0, goal: { value: 0, label: 'goal: 0 ambiguous' }, groups: targets.map((t) => ({ label: t.on, bars: bars[t.key] })) }],
  },
  notes: [
    'Load: the conformance harness runKeepAliveLoad (raw HTTP/1.1, loopback, bounded in count and time); SIGTERM after signalAfterMs.',
    'ambiguous = a request written on a socket that then reset or closed without a response; refused = connect failed, nothing sent.',
    `runs on: the runtime and line of the server; the load client runs on node ${process.versions.node}. A Quiesce trial that lost requests while the load client stalled ≥ 100 ms is set aside and run again (at most ${STALL_RETRIES} times), as the conformance suite does; the note column counts them.`,
    'Quiesce runs createLifecycle with lameDuckMs 0 (its default).',
  ],
  raw: { trials, setAside },
});
console.log(`wrote ${file}`);

// The same race over HTTP/2 sessions, on each Node line and on Deno (lib/http2-rows.mjs).
await runHttp2Race(settings, mode, { targets, checks });
checks.finish();
