#!/usr/bin/env node
// Part 6 — rolling restart behind a real load balancer. Three instances of the example app
// (apps/example, Node) behind HAProxy from Debian on loopback ports, health-checked on /readyz; under
// keep-alive load through HAProxy, each instance in turn is replaced. Two ways to roll:
//   replace (default, as Kubernetes rolls a Deployment with maxSurge): a new instance starts on a
//     new port, HAProxy adds it (runtime API) and sees it UP, then the old one gets SIGTERM; the old
//     address stays dead and HAProxy only learns it from its health check;
//   restart (as systemd restarts a unit): SIGTERM, exit, start again on the same port, wait for UP.
// Once with QUIESCE_LAME_DUCK_MS long enough for HAProxy's health check to notice (inter × fall, plus
// margin), once with 0. Every response that is not a 200, and every ambiguous, refused or failed
// request, is an error the user saw; a probe client also records the latency of each request.
// Goal: 0 errors with the lame duck; the run without it shows why it matters.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, sleep } from './lib/cli.mjs';

const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: {
    rounds: 3,
    roll: 'replace',
    lameDuckMs: 1_000,
    deadlineMs: 10_000,
    checkInterMs: 200,
    checkFall: 2,
    clients: 20,
    path: '/',
    warmMs: 1_000,
    pauseMs: 500,
    maxRequests: 2_000_000,
    maxDurationMs: 120_000,
  },
  smoke: { rounds: 1, warmMs: 300, pauseMs: 200 },
  help:
    'node bench/6-rolling-restart.mjs [--smoke] [--rounds=3] [--roll=replace|restart] [--lame-duck-ms=1000] [--deadline-ms=10000] [--check-inter-ms=200]\n' +
    '  [--check-fall=2] [--clients=20] [--path=/] [--warm-ms=1000] [--pause-ms=500]\n' +
    'Needs haproxy (Debian: apt-get install -y haproxy; installed automatically when run as root).',
});

/** HAProxy from Debian: installed here if missing and we are root, else a clear error. */
function ensureHaproxy() {
  const found = () => {
    try {
      return execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split('\n')[0];
    } catch {
      return undefined;
    }
  };
  let version = found();
  if (version) return version;
  if (process.getuid?.() !== 0) throw new Error('haproxy is not installed; run `apt-get install -y haproxy` (as root), then this script again.');
  console.log('installing haproxy (apt-get install -y haproxy) …');
  try {
    execFileSync('apt-get', ['install', '-y', 'haproxy'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', 'haproxy'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  version = found();
  if (!version) throw new Error('apt-get install -y haproxy did not provide a haproxy binary.');
  return version;
}
if (settings.roll !== 'replace' && settings.roll !== 'restart') throw new Error(`--roll must be replace or restart, got ${JSON.stringify(settings.roll)}.`);
const haproxyVersion = ensureHaproxy();

const { describeEnvironment } = await import('./lib/environment.mjs');
const { killAllServers, openConnection, runKeepAliveLoad, startServer } = await import('./lib/harness.mjs');
const { writeResult } = await import('./lib/results.mjs');
const { median, round } = await import('./lib/stats.mjs');
const { formatTable } = await import('./lib/table.mjs');

const exampleScript = fileURLToPath(new URL('../apps/example/dist/server.js', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function haproxyConfig({ frontPort, backPorts, socket }) {
  return [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout check 1s',
    'frontend fe',
    `  bind 127.0.0.1:${frontPort}`,
    '  default_backend be',
    'backend be',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    `  default-server inter ${settings.checkInterMs}ms fall ${settings.checkFall} rise 1`,
    ...backPorts.map((port, i) => `  server s${i + 1} 127.0.0.1:${port} check`),
    // Empty slots for replacements (roll=replace), filled through the runtime API.
    ...backPorts.map((_, i) => `  server s${backPorts.length + i + 1} 127.0.0.1:9 check disabled`),
    '',
  ].join('\n');
}

/** One command on HAProxy's stats socket. */
function haproxyCommand(socket, command) {
  return new Promise((resolve, reject) => {
    const client = connect(socket);
    let out = '';
    client.setEncoding('utf8');
    client.on('data', (d) => {
      out += d;
    });
    client.on('end', () => resolve(out));
    client.on('error', reject);
    client.write(`${command}\n`);
  });
}

/** Status (UP, DOWN, …) of each backend server, from `show stat`. */
async function serverStatus(socket) {
  const csv = await haproxyCommand(socket, 'show stat');
  const [header, ...lines] = csv.trim().split('\n');
  const cols = header.replace(/^# /, '').split(',');
  const status = {};
  for (const line of lines) {
    const f = line.split(',');
    if (f[cols.indexOf('pxname')] === 'be' && /^s\d+$/.test(f[cols.indexOf('svname')])) status[f[cols.indexOf('svname')]] = f[cols.indexOf('status')];
  }
  return status;
}

async function waitForStatus(socket, name, wanted, timeoutMs = 15_000) {
  const until = performance.now() + timeoutMs;
  for (;;) {
    let status;
    try {
      status = (await serverStatus(socket))[name];
    } catch {
      // HAProxy still starting.
    }
    if (status?.startsWith(wanted)) return;
    if (performance.now() > until) throw new Error(`HAProxy did not see ${name} ${wanted} within ${timeoutMs} ms (status ${status}).`);
    await sleep(20);
  }
}

function startExample(port, lameDuckMs) {
  return startServer({
    runtime: 'node',
    script: exampleScript,
    env: { PORT: String(port), QUIESCE_LAME_DUCK_MS: String(lameDuckMs), QUIESCE_DEADLINE_MS: String(settings.deadlineMs) },
  });
}

/** One client sending requests back to back through HAProxy, timing each; bounded by `signal`, count and time. */
async function latencyProbe(port, signal) {
  const latencies = [];
  const until = performance.now() + settings.maxDurationMs;
  let connection;
  while (!signal.aborted && latencies.length < 1_000_000 && performance.now() < until) {
    const t0 = performance.now();
    try {
      connection ??= await openConnection(port);
      const response = await connection.request({ path: settings.path });
      latencies.push(performance.now() - t0);
      if (!response.keepAlive) {
        connection.destroy();
        connection = undefined;
      }
    } catch {
      latencies.push(performance.now() - t0);
      connection?.destroy();
      connection = undefined;
      await sleep(5);
    }
  }
  connection?.destroy();
  return latencies;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : Number.NaN;
}

async function rollingRun(lameDuckMs) {
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-bench-haproxy-'));
  const socket = join(dir, 'admin.sock');
  const frontPort = await freePort();
  const backPorts = [await freePort(), await freePort(), await freePort()];
  const configFile = join(dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig({ frontPort, backPorts, socket }));
  const instances = [];
  let haproxy;
  try {
    for (const port of backPorts) instances.push(await startExample(port, lameDuckMs));
    haproxy = spawn('haproxy', ['-f', configFile, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let haproxyErr = '';
    haproxy.stderr.on('data', (d) => {
      haproxyErr += d;
    });
    const haproxyExited = new Promise((resolve) => haproxy.once('exit', resolve));
    try {
      for (let i = 0; i < backPorts.length; i++) await waitForStatus(socket, `s${i + 1}`, 'UP');
    } catch (error) {
      throw new Error(`${error.message}\n${haproxyErr}`);
    }

    const stop = new AbortController();
    const load = runKeepAliveLoad({
      port: frontPort,
      clients: settings.clients,
      path: settings.path,
      until: stop.signal,
      maxRequests: settings.maxRequests,
      maxDurationMs: settings.maxDurationMs,
    });
    const probe = latencyProbe(frontPort, stop.signal);
    await sleep(settings.warmMs);
    const steps = [];
    const rollStarted = performance.now();
    for (let i = 0; i < backPorts.length; i++) {
      const old = instances[i];
      const t0 = performance.now();
      let slot = `s${i + 1}`;
      if (settings.roll === 'replace') {
        // Surge: the replacement joins first, on a new port, in an empty slot.
        const port = await freePort();
        instances.push(await startExample(port, lameDuckMs));
        slot = `s${backPorts.length + i + 1}`;
        await haproxyCommand(socket, `set server be/${slot} addr 127.0.0.1 port ${port}`);
        await haproxyCommand(socket, `set server be/${slot} state ready`);
        await waitForStatus(socket, slot, 'UP');
      }
      const signalledAt = performance.now();
      old.kill('SIGTERM');
      const exit = await Promise.race([old.exited, sleep(settings.deadlineMs + 5_000).then(() => undefined)]);
      if (!exit) await old.stop();
      if (settings.roll === 'restart') {
        instances[i] = await startExample(backPorts[i], lameDuckMs);
        await waitForStatus(socket, slot, 'UP');
      }
      steps.push({
        instance: i + 1,
        exitMs: exit?.afterMs,
        exitCode: exit ? (exit.signal ?? exit.code) : 'killed',
        stepMs: round(performance.now() - t0),
        sinceSignalMs: round(performance.now() - signalledAt),
        report: old.lines.find((l) => l.startsWith('quiesce:')),
      });
      await sleep(settings.pauseMs);
    }
    const rollMs = round(performance.now() - rollStarted);
    stop.abort();
    const result = await load;
    const latencies = await probe;
    const { totals } = result;
    const ok200 = totals.statuses[200] ?? 0;
    const bad = Object.entries(totals.statuses).filter(([s]) => s !== '200');
    haproxy.kill('SIGTERM');
    await Promise.race([haproxyExited, sleep(3_000)]);
    return {
      lameDuckMs,
      attempts: totals.attempts,
      ok200,
      errors: totals.attempts - ok200,
      non200: Object.fromEntries(bad),
      ambiguous: totals.ambiguous,
      refused: totals.refused,
      otherErrors: totals.error,
      rollMs,
      probeRequests: latencies.length,
      probeP99Ms: round(percentile(latencies, 0.99), 1),
      probeMaxMs: round(Math.max(...latencies), 1),
      probeOver500Ms: latencies.filter((ms) => ms > 500).length,
      steps,
      firstFailures: result.failures.slice(0, 5).map((f) => `${f.outcome}${f.kind ? `/${f.kind}` : ''} @${f.atMs}ms: ${f.message.slice(0, 120)}`),
    };
  } finally {
    if (haproxy && haproxy.exitCode === null) haproxy.kill('SIGKILL');
    for (const instance of instances) await instance.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs = { lameDuck: [], noLameDuck: [] };
console.log(`Part 6 — rolling restart behind HAProxy (${mode}). ${describeEnvironment()}; ${haproxyVersion}`);
try {
  for (let r = 0; r < settings.rounds; r++) {
    for (const [key, lameDuckMs] of r % 2 === 0 ? [['lameDuck', settings.lameDuckMs], ['noLameDuck', 0]] : [['noLameDuck', 0], ['lameDuck', settings.lameDuckMs]]) {
      const run = await rollingRun(lameDuckMs);
      runs[key].push(run);
      console.log(
        `  round ${r + 1}/${settings.rounds}, QUIESCE_LAME_DUCK_MS=${lameDuckMs}: ${run.attempts} requests, ${run.errors} errors ` +
          `(non-200 ${JSON.stringify(run.non200)}, ambiguous ${run.ambiguous}, refused ${run.refused}), probe p99 ${run.probeP99Ms} ms, ` +
          `max ${run.probeMaxMs} ms, roll ${run.rollMs} ms`,
      );
    }
  }
} finally {
  await killAllServers();
}

const rows = Object.entries(runs).map(([key, list]) => {
  const non200 = {};
  for (const run of list) for (const [s, n] of Object.entries(run.non200)) non200[s] = (non200[s] ?? 0) + n;
  return {
    label: `${settings.roll}, QUIESCE_LAME_DUCK_MS=${key === 'lameDuck' ? settings.lameDuckMs : 0}`,
    lameDuckMs: key === 'lameDuck' ? settings.lameDuckMs : 0,
    errorsMedian: round(median(list.map((r) => r.errors))),
    errorsTotal: `${list.reduce((n, r) => n + r.errors, 0)} of ${list.reduce((n, r) => n + r.attempts, 0)}`,
    non200: Object.entries(non200).map(([s, n]) => `${s}×${n}`).join(', ') || '-',
    ambiguous: list.reduce((n, r) => n + r.ambiguous, 0),
    refused: list.reduce((n, r) => n + r.refused, 0),
    requests: round(median(list.map((r) => r.attempts))),
    rollMs: round(median(list.map((r) => r.rollMs))),
    probeP99Ms: round(median(list.map((r) => r.probeP99Ms)), 1),
    probeMaxMs: round(Math.max(...list.map((r) => r.probeMaxMs)), 1),
    probeOver500Ms: list.reduce((n, r) => n + r.probeOver500Ms, 0),
    instanceExitMs: round(median(list.flatMap((r) => r.steps.map((s) => s.exitMs)))),
  };
});
const columns = [
  { key: 'label', title: 'run', align: 'left' },
  { key: 'errorsMedian', title: 'errors (median)' },
  { key: 'errorsTotal', title: 'errors / requests, all runs' },
  { key: 'non200', title: 'non-200 from HAProxy', align: 'left' },
  { key: 'ambiguous', title: 'ambiguous' },
  { key: 'refused', title: 'refused' },
  { key: 'requests', title: 'requests per run' },
  { key: 'probeP99Ms', title: 'probe p99 ms' },
  { key: 'probeMaxMs', title: 'probe max ms' },
  { key: 'probeOver500Ms', title: 'probe > 500 ms' },
  { key: 'instanceExitMs', title: 'SIGTERM→exit ms' },
  { key: 'rollMs', title: 'roll ms' },
];
console.log(`\n${formatTable(columns, rows)}`);
const withLd = rows[0];
console.log(`${mode === 'smoke' ? '[smoke run, indicative only] ' : ''}goal: ${withLd.errorsTotal} errors with the lame duck (goal 0) — ${withLd.errorsTotal.startsWith('0 ') ? 'met' : 'MISSED'}`);
const file = writeResult(settings.roll === 'replace' ? 'rolling-restart' : `rolling-restart-${settings.roll}`, {
  mode,
  settings: { ...settings, haproxy: haproxyVersion },
  columns,
  rows,
  notes: [
    `HAProxy (Debian), HTTP mode, defaults otherwise (retries 3, no redispatch, http-reuse safe): health check GET /readyz every ${settings.checkInterMs} ms, fall ${settings.checkFall}, rise 1; timeout connect 1s.`,
    'Load: the conformance harness runKeepAliveLoad through HAProxy; an error is any attempt that did not end in a 200.',
    settings.roll === 'replace'
      ? 'Each instance: a replacement starts on a new port and HAProxy adds it (runtime API) and sees it UP; then SIGTERM to the old one, wait for its exit, pause, next. The old address stays dead.'
      : 'Each instance: SIGTERM, wait for exit, start again on the same port, wait until HAProxy reports it UP, pause, next.',
    'probe: one extra client sending requests back to back through HAProxy, timing each (failures included).',
  ],
  raw: runs,
});
console.log(`wrote ${file}`);
