#!/usr/bin/env node
// Part 4 — the keep-alive race. `clients` clients send requests back to back on keep-alive
// connections; SIGTERM arrives mid-loop. Every attempt is classified by the conformance harness:
// ok; refused (nothing was sent: the listener had closed, safe to retry); ambiguous (a request was
// written, then the socket reset or closed without a response: the client cannot know whether it
// ran). Goal: 0 ambiguous failures on every runtime (every anchor loses one request per client).
import { parseArgs, sleep } from './lib/cli.mjs';
import { describeEnvironment } from './lib/environment.mjs';
import { killAllServers, runKeepAliveLoad } from './lib/harness.mjs';
import { writeResult } from './lib/results.mjs';
import { median, round } from './lib/stats.mjs';
import { formatTable } from './lib/table.mjs';
import { selectVariants, startVariant } from './lib/variants.mjs';
import { runHttp2Race } from './lib/http2-rows.mjs';

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: {
    runtimes: ['node', 'bun', 'deno'],
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
    'node bench/4-keep-alive-race.mjs [--smoke] [--runtimes=node,bun,deno] [--rounds=5] [--clients=20] [--path=/]\n' +
    '  [--signal-after-ms=500] [--exit-wait-ms=3000] [--after-exit-ms=200] [--max-requests=500000] [--max-duration-ms=20000]',
});

async function trial(v) {
  const server = await startVariant(v);
  const stop = new AbortController();
  const load = runKeepAliveLoad({
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
  return {
    attempts: totals.attempts,
    ok: totals.ok,
    refused: totals.refused,
    ambiguous: totals.ambiguous,
    ambiguousByKind: totals.ambiguousByKind,
    error: totals.error,
    connectionCloseResponses: totals.connectionCloseResponses,
    clientsWithLoss: result.clients.filter((c) => c.ambiguous > 0).length,
    exitMs: exit?.afterMs ?? Number.NaN,
    exitCode: exit ? (exit.signal ?? exit.code) : `still running after ${settings.exitWaitMs} ms`,
    firstFailures: result.failures.slice(0, 3).map((f) => `${f.outcome}${f.kind ? `/${f.kind}` : ''} @${f.atMs}ms`),
  };
}

const variants = selectVariants(settings.runtimes);
const runnable = variants.filter((v) => !v.pending);
const trials = Object.fromEntries(runnable.map((v) => [v.label, []]));
console.log(`Part 4 — keep-alive race (${mode}), ${settings.clients} clients on ${settings.path}. ${describeEnvironment()}`);
try {
  for (let r = 0; r < settings.rounds; r++) {
    for (const v of runnable) {
      const t = await trial(v);
      trials[v.label].push(t);
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
for (const v of variants) {
  if (v.pending) {
    rows.push({ label: v.label, shutdown: v.shutdown, note: v.pending });
    continue;
  }
  const list = trials[v.label];
  const kinds = {};
  for (const t of list) for (const [k, n] of Object.entries(t.ambiguousByKind)) kinds[k] = (kinds[k] ?? 0) + n;
  rows.push({
    runtime: v.runtime,
    variant: v.variant,
    label: v.label,
    shutdown: v.shutdown,
    ambiguous: round(median(list.map((t) => t.ambiguous))),
    ambiguousTotal: `${list.reduce((n, t) => n + t.ambiguous, 0)} in ${list.length}`,
    ambiguousKinds: Object.entries(kinds).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || '-',
    clientsWithLoss: `${round(median(list.map((t) => t.clientsWithLoss)))}/${settings.clients}`,
    refused: round(median(list.map((t) => t.refused))),
    ok: round(median(list.map((t) => t.ok))),
    connectionClose: round(median(list.map((t) => t.connectionCloseResponses))),
    exitMs: round(median(list.map((t) => t.exitMs))),
    exitCodes: [...new Set(list.map((t) => t.exitCode))].join('/'),
    errors: list.reduce((n, t) => n + t.error, 0),
  });
}
const columns = [
  { key: 'label', title: 'server', align: 'left' },
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
for (const row of rows.filter((r) => r.variant === 'quiesce')) {
  const total = Number.parseInt(row.ambiguousTotal, 10);
  console.log(`${mode === 'smoke' ? '[smoke run, indicative only] ' : ''}goal ${row.label}: ${total} ambiguous failures over ${trials[row.label].length} runs (goal 0) — ${total === 0 ? 'met' : 'MISSED'}`);
}
const file = writeResult('keep-alive-race', {
  mode,
  settings,
  columns,
  rows,
  notes: [
    'Load: the conformance harness runKeepAliveLoad (raw HTTP/1.1, loopback, bounded in count and time); SIGTERM after signalAfterMs.',
    'ambiguous = a request written on a socket that then reset or closed without a response; refused = connect failed, nothing sent.',
    'Quiesce runs createLifecycle with lameDuckMs 0 (its default).',
  ],
  raw: trials,
});
console.log(`wrote ${file}`);

// The same race over HTTP/2 sessions, on each Node line and on Deno (lib/http2-rows.mjs).
await runHttp2Race(settings, mode);
