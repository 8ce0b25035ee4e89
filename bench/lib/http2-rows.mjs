// The HTTP/2 rows of parts 2 and 4: the issue-16 table, rerun. Servers: node:http2
// createSecureServer({ allowHTTP1: true }) on each Node line installed (20 = the Node running the
// bench, 22/24/26 from node_modules), bare (SIGTERM: server.close(), exit from its callback) or under
// createLifecycle + createNodeAdapter; Deno.serve over TLS, bare (shutdown()) or under serveDeno;
// Bun: Bun.serve 1.4 does not serve HTTP/2 (no ALPN h2), so no row runs. Server scripts are the
// conformance fixtures (node-http2-server.mjs, deno-http2-server.ts); clients are Node's
// http2.connect (the conformance harness's runHttp2Load), loopback only, bounded in count and time.
//
// Part 4 (the race): `sessions` sessions × `streams` streams in flight back to back on `path`,
// SIGTERM after `signalAfterMs`: accepted streams lost, sessions told with GOAWAY, exit.
// Part 2 (latency): A. `idleSessions` idle sessions (one request each, then idle `idleMs`), SIGTERM:
// exit time; B. one stream in flight (`slowMs`) at SIGTERM: response -> exit.
// Anchor: bare Node 24 (and 26) server.close(), which sends a GOAWAY (Node >= 24); goal: Quiesce 0
// lost on every line and no later an exit than bare Node 24.
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { sleep } from './cli.mjs';
import { killAllServers, startServer } from './harness.mjs';
import { writeResult } from './results.mjs';
import { median, rotate, round } from './stats.mjs';
import { formatTable } from './table.mjs';
import { onTarget } from './targets.mjs';
import { goalRecord, printGoals, verdictAtMost } from './goals.mjs';

const { runHttp2Load } = await import('../../packages/conformance/src/harness/index.ts');
const { selfSignedCertificate } = await import('../../packages/test-support/src/index.ts');
const fixture = (name) => fileURLToPath(new URL(`../../packages/conformance/src/fixtures/${name}`, import.meta.url));
const READY = /listening on (https?:\/\/\S+)/;

/**
 * The rows on the part's targets (lib/targets.mjs: the Node lines asked for with --lines, Bun, Deno):
 * each Node line bare and Quiesce, Deno bare and Quiesce, Bun pending (no HTTP/2 server).
 */
export function http2Rows(targets) {
  const rows = [];
  for (const target of targets) {
    const name = target.runtime === 'node' ? `node ${target.line}` : target.runtime;
    if (target.runtime === 'bun') {
      rows.push({ runtime: 'bun', target, variant: 'bare', label: 'bun', shutdown: '-', pending: 'Bun.serve 1.4.5 serves no HTTP/2 (no ALPN h2; pinned in conformance http2-pins)' });
      continue;
    }
    const bare = target.runtime === 'node' ? 'server.close()' : 'server.shutdown()';
    rows.push({ runtime: target.runtime, line: target.line, target, variant: 'bare', label: `${name} bare`, shutdown: bare });
    rows.push({ runtime: target.runtime, line: target.line, target, variant: 'quiesce', label: `${name} quiesce`, shutdown: 'createLifecycle' });
  }
  return rows;
}

let tls;
/** A self-signed certificate for the run, removed at exit. */
function certificate() {
  if (!tls) {
    tls = selfSignedCertificate();
    process.once('exit', () => tls.dispose());
  }
  return tls.env;
}

/** Starts the server of `row` on its target (lib/targets.mjs onTarget picks the Node line's binary). */
async function start(row) {
  const env = { ...certificate(), H2_VARIANT: row.variant, H2_MODE: 'tls-http1', QUIESCE_DEADLINE_MS: '10000' };
  const script = row.runtime === 'deno' ? fixture('deno-http2-server.ts') : fixture('node-http2-server.mjs');
  return onTarget(row.target, () => startServer({ runtime: row.runtime, script, env, readyPattern: READY, timeoutMs: 30_000 }));
}

async function exitWithin(server, ms) {
  const exit = await Promise.race([server.exited, sleep(ms).then(() => undefined)]);
  return exit ? { ...exit, at: performance.now() } : undefined;
}

const report = (server) => server.lines.find((line) => /quiesce: shutdown/.test(line));

/** Part 4's HTTP/2 trial: the issue's load, SIGTERM mid-load. */
async function raceTrial(row, s) {
  const server = await start(row);
  const stop = new AbortController();
  const load = runHttp2Load({ url: server.url, sessions: s.sessions, streamsPerSession: s.streams, path: s.path, until: stop.signal, maxDurationMs: s.maxDurationMs });
  await sleep(s.signalAfterMs);
  const killedAt = performance.now();
  server.kill('SIGTERM');
  const exit = await exitWithin(server, s.exitWaitMs);
  // A server still running (bare Node 20/22: close() leaves sessions open) is killed: what its
  // clients had in flight is lost, as at a supervisor's SIGKILL.
  if (!exit) await server.stop();
  await sleep(s.afterExitMs);
  stop.abort();
  const { totals } = await load;
  return {
    ok: totals.ok,
    refused: totals.refused,
    lost: totals.lost,
    lostByKind: totals.lostByKind,
    sessions: totals.sessions,
    told: totals.sessionsToldGoaway,
    noticed: totals.sessionsNoticed,
    exitMs: exit ? exit.at - killedAt : Number.NaN,
    exitCode: exit ? (exit.signal ?? exit.code) : `still running after ${s.exitWaitMs} ms (killed)`,
    report: report(server),
  };
}

/** A client session for part 2: connected, one request answered. */
async function openSession(url) {
  const session = http2.connect(url, { rejectUnauthorized: false });
  session.on('error', () => {});
  await new Promise((resolve, reject) => {
    session.once('connect', resolve);
    session.once('error', reject);
  });
  return session;
}

function get(session, path) {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': path });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      body += chunk;
    });
    stream.on('error', () => {});
    stream.on('close', () => resolve({ body, at: performance.now() }));
  });
}

/** Part 2's HTTP/2 trials: A. idle sessions, B. one stream in flight. */
async function latencyTrial(row, s) {
  const idle = await (async () => {
    const server = await start(row);
    const sessions = [];
    try {
      for (let i = 0; i < s.idleSessions; i++) sessions.push(await openSession(server.url));
      await Promise.all(sessions.map((session) => get(session, '/')));
      await sleep(s.idleMs);
      const killedAt = performance.now();
      server.kill('SIGTERM');
      const exit = await exitWithin(server, s.exitWaitMs);
      if (!exit) await server.stop();
      return { exitMs: exit ? exit.at - killedAt : Number.NaN, exitCode: exit ? (exit.signal ?? exit.code) : 'timeout (killed)', report: report(server) };
    } finally {
      for (const session of sessions) session.destroy();
    }
  })();
  const inFlight = await (async () => {
    const server = await start(row);
    const session = await openSession(server.url);
    try {
      const answer = get(session, `/?ms=${s.slowMs}`);
      await sleep(s.signalAfterMs);
      server.kill('SIGTERM');
      const { body, at } = await answer;
      const exit = await exitWithin(server, s.exitWaitMs);
      if (!exit) await server.stop();
      return {
        answered: body === `slept ${s.slowMs} ms\n`,
        responseToExitMs: exit && body ? exit.at - at : Number.NaN,
        exitCode: exit ? (exit.signal ?? exit.code) : 'timeout (killed)',
      };
    } finally {
      session.destroy();
    }
  })();
  return { idle, inFlight };
}

const fmt = (values, digits = 1) => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? round(median(finite), digits) : null;
};
/** Median of per-round ratios of `row` over `anchor` on `pick`. */
function ratioTo(trials, row, anchor, pick) {
  const mine = trials[row.label] ?? [];
  const theirs = trials[anchor?.label] ?? [];
  const ratios = mine.map((t, i) => pick(t) / pick(theirs[i] ?? {})).filter(Number.isFinite);
  return ratios.length ? `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : undefined;
}
const anchorOf = (rows, line) => rows.find((r) => r.runtime === 'node' && r.line === line && r.variant === 'bare');

/**
 * Part 4's HTTP/2 rows: runs them on `targets`, prints the table and the goals, writes
 * keep-alive-race-http2.json, and records in `checks` every stream a Quiesce row lost and every
 * Quiesce exit other than 0. `base` is the part's settings (rounds, signalAfterMs, exitWaitMs,
 * afterExitMs, runtimes).
 */
export async function runHttp2Race(base, mode, { targets, checks }) {
  const s = { rounds: base.rounds, runtimes: base.runtimes, sessions: 10, streams: 4, path: '/?ms=20', signalAfterMs: base.signalAfterMs, exitWaitMs: base.exitWaitMs, afterExitMs: base.afterExitMs, maxDurationMs: 15_000 };
  const rows = http2Rows(targets);
  const runnable = rows.filter((r) => !r.pending);
  const trials = Object.fromEntries(runnable.map((r) => [r.label, []]));
  console.log(`\nPart 4, HTTP/2 — ${s.sessions} sessions × ${s.streams} streams on ${s.path}, SIGTERM after ${s.signalAfterMs} ms (node: createSecureServer allowHTTP1; deno: Deno.serve TLS).`);
  try {
    for (let r = 0; r < s.rounds; r++) {
      for (const row of rotate(runnable, r)) {
        const t = await raceTrial(row, s);
        trials[row.label].push(t);
        console.log(`  round ${r + 1}/${s.rounds} ${row.label}: ${t.ok} ok, ${t.refused} refused, ${t.lost} lost, ${t.told}/${t.sessions} told with GOAWAY, exit ${round(t.exitMs, 1)} ms (${t.exitCode})`);
      }
    }
  } finally {
    await killAllServers();
  }
  const node24 = anchorOf(rows, 24);
  const table = rows.map((row) => {
    if (row.pending) return { label: row.label, shutdown: row.shutdown, note: row.pending };
    const list = trials[row.label];
    const kinds = {};
    for (const t of list) for (const [k, n] of Object.entries(t.lostByKind)) kinds[k] = (kinds[k] ?? 0) + n;
    return {
      runtime: row.runtime,
      variant: row.variant,
      label: row.label,
      shutdown: row.shutdown,
      lost: round(median(list.map((t) => t.lost))),
      lostTotal: `${list.reduce((n, t) => n + t.lost, 0)} in ${list.length}`,
      how: Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ') || '-',
      told: `${list.reduce((n, t) => n + t.told, 0)} of ${list.reduce((n, t) => n + t.sessions, 0)}`,
      noticed: `${list.reduce((n, t) => n + t.noticed, 0)}`,
      refused: round(median(list.map((t) => t.refused))),
      ok: round(median(list.map((t) => t.ok))),
      exitMs: fmt(list.map((t) => t.exitMs)),
      vsNode24: row.variant === 'quiesce' && node24 ? ratioTo(trials, row, node24, (t) => t.exitMs) : undefined,
      exit: [...new Set(list.map((t) => t.exitCode))].join('/'),
    };
  });
  const columns = [
    { key: 'label', title: 'server', align: 'left' },
    { key: 'shutdown', title: 'on SIGTERM', align: 'left' },
    { key: 'lost', title: 'accepted streams lost (median)' },
    { key: 'lostTotal', title: 'total in runs' },
    { key: 'how', title: 'how', align: 'left' },
    { key: 'told', title: 'sessions told with GOAWAY' },
    { key: 'noticed', title: 'of them GOAWAY 2^31-1 first' },
    { key: 'refused', title: 'refused (retry-safe)' },
    { key: 'ok', title: 'ok' },
    { key: 'exitMs', title: 'exit ms' },
    { key: 'vsNode24', title: 'exit vs bare Node 24 (rounds)', align: 'left' },
    { key: 'exit', title: 'exit' },
    { key: 'note', title: 'note', align: 'left' },
  ];
  console.log(`\n${formatTable(columns, table)}`);
  const goals = [];
  for (const row of runnable.filter((r) => r.variant === 'quiesce')) {
    const list = trials[row.label];
    const lost = list.reduce((n, t) => n + t.lost, 0);
    const vs = table.find((r) => r.label === row.label)?.vsNode24;
    goals.push(
      goalRecord({
        part: 4,
        target: row.target,
        row: row.label,
        subject: 'quiesce (HTTP/2)',
        metric: 'accepted streams lost',
        measure: `accepted streams lost in ${list.length} runs of ${s.sessions} sessions × ${s.streams} streams`,
        goal: '0',
        value: lost,
        digits: 0,
        verdict: verdictAtMost(lost, 0),
        detail: vs ? `exit vs bare Node 24 ${vs}` : undefined,
      }),
    );
    // Correctness: no accepted stream lost, and the process exited 0 (counts and codes, never a time).
    checks.expect(lost === 0, `${row.label} (HTTP/2): ${lost} accepted streams lost`);
    for (const t of list) checks.expect(t.exitCode === 0, `${row.label} (HTTP/2): exit ${t.exitCode}`);
  }
  printGoals(goals, mode);
  const file = writeResult('keep-alive-race-http2', {
    mode,
    title: 'Part 4 — the keep-alive race over HTTP/2',
    part: 4,
    targets,
    goals,
    settings: s,
    columns,
    rows: table,
    notes: [
      'Clients: runHttp2Load (Node http2.connect, loopback); a stream is lost when the server accepted it (its id is not above a GOAWAY last-stream-id, no REFUSED_STREAM) and it ended without a complete response; refused streams were never processed and are safe to retry.',
      'A server still running after exitWaitMs (bare Node 20/22: server.close() leaves sessions open) is killed; its streams in flight count as lost.',
      'Node rows: http2.createSecureServer({ allowHTTP1: true }); Quiesce: createLifecycle({ adapter: createNodeAdapter(server) }) with its defaults. Deno: Deno.serve with cert/key; Quiesce: serveDeno.',
    ],
    raw: trials,
  });
  console.log(`wrote ${file}`);
}

/**
 * Part 2's HTTP/2 rows: runs them on `targets`, prints the table, writes shutdown-latency-http2.json,
 * and records in `checks` an in-flight stream a Quiesce row did not answer and every Quiesce exit
 * other than 0. Its times are shown beside bare Node 24 (the first line whose close() sends GOAWAY).
 */
export async function runHttp2Latency(base, mode, { targets, checks }) {
  const s = { rounds: base.rounds, runtimes: base.runtimes, idleSessions: mode === 'smoke' ? 10 : 100, idleMs: base.idleMs, slowMs: base.slowMs, signalAfterMs: base.signalAfterMs, exitWaitMs: Math.min(base.exitTimeoutMs, 5_000) };
  const rows = http2Rows(targets);
  const runnable = rows.filter((r) => !r.pending);
  const trials = Object.fromEntries(runnable.map((r) => [r.label, []]));
  console.log(`\nPart 2, HTTP/2 — A. ${s.idleSessions} idle sessions (idle ${s.idleMs} ms), SIGTERM; B. one stream in flight (${s.slowMs} ms) at SIGTERM.`);
  try {
    for (let r = 0; r < s.rounds; r++) {
      for (const row of rotate(runnable, r)) {
        const t = await latencyTrial(row, s);
        trials[row.label].push(t);
        console.log(`  round ${r + 1}/${s.rounds} ${row.label}: idle exit ${round(t.idle.exitMs, 1)} ms (${t.idle.exitCode}), in flight ${t.inFlight.answered ? 'answered' : 'LOST'}, response→exit ${round(t.inFlight.responseToExitMs, 1)} ms (${t.inFlight.exitCode})`);
      }
    }
  } finally {
    await killAllServers();
  }
  const node24 = anchorOf(rows, 24);
  const table = rows.map((row) => {
    if (row.pending) return { label: row.label, shutdown: row.shutdown, note: row.pending };
    const list = trials[row.label];
    return {
      runtime: row.runtime,
      variant: row.variant,
      label: row.label,
      shutdown: row.shutdown,
      idleExitMs: fmt(list.map((t) => t.idle.exitMs)),
      idleVsNode24: row.variant === 'quiesce' && node24 ? ratioTo(trials, row, node24, (t) => t.idle?.exitMs) : undefined,
      answered: `${list.filter((t) => t.inFlight.answered).length} of ${list.length}`,
      responseToExitMs: fmt(list.map((t) => t.inFlight.responseToExitMs)),
      responseVsNode24: row.variant === 'quiesce' && node24 ? ratioTo(trials, row, node24, (t) => t.inFlight?.responseToExitMs) : undefined,
      exit: [...new Set(list.flatMap((t) => [t.idle.exitCode, t.inFlight.exitCode]))].join('/'),
    };
  });
  const columns = [
    { key: 'label', title: 'server', align: 'left' },
    { key: 'shutdown', title: 'on SIGTERM', align: 'left' },
    { key: 'idleExitMs', title: `${s.idleSessions} idle sessions: exit ms` },
    { key: 'idleVsNode24', title: 'vs bare Node 24 (rounds)', align: 'left' },
    { key: 'answered', title: 'in-flight stream answered' },
    { key: 'responseToExitMs', title: 'response→exit ms' },
    { key: 'responseVsNode24', title: 'vs bare Node 24 (rounds)', align: 'left' },
    { key: 'exit', title: 'exit' },
    { key: 'note', title: 'note', align: 'left' },
  ];
  console.log(`\n${formatTable(columns, table)}`);
  for (const row of table.filter((r) => r.variant === 'quiesce')) {
    console.log(`${mode === 'smoke' ? '[smoke run, indicative only] ' : ''}HTTP/2 ${row.label}: idle exit ${row.idleExitMs} ms${row.idleVsNode24 ? ` (vs bare Node 24 ${row.idleVsNode24})` : ''}, response→exit ${row.responseToExitMs} ms${row.responseVsNode24 ? ` (vs bare Node 24 ${row.responseVsNode24})` : ''}, in flight answered ${row.answered}`);
  }
  for (const row of runnable.filter((r) => r.variant === 'quiesce')) {
    for (const t of trials[row.label]) {
      checks.expect(t.inFlight.answered, `${row.label} (HTTP/2): the stream in flight at SIGTERM was not answered`);
      checks.expect(t.idle.exitCode === 0 && t.inFlight.exitCode === 0, `${row.label} (HTTP/2): exit ${t.idle.exitCode} (idle), ${t.inFlight.exitCode} (in flight)`);
    }
  }
  const file = writeResult('shutdown-latency-http2', {
    mode,
    title: 'Part 2 — shutdown latency over HTTP/2',
    part: 2,
    targets,
    settings: s,
    columns,
    rows: table,
    notes: [
      'The idle clients are Node http2 sessions in the bench process, responsive (an HTTP/2 close needs the peer: a client answers GOAWAY by closing; Quiesce ends a session whose client stays silent after the idle grace).',
      `A server still running after ${s.exitWaitMs} ms (bare Node 20/22: server.close() leaves sessions open) is killed: "timeout".`,
    ],
    raw: trials,
  });
  console.log(`wrote ${file}`);
}
