#!/usr/bin/env node
// Part 6 — rolling restart behind a real load balancer. Three instances of the example app
// (apps/example, Node) behind HAProxy from Debian on loopback ports, health-checked on /readyz; under
// keep-alive load through HAProxy, each instance in turn is replaced. Two ways to roll:
//   replace (default, as Kubernetes rolls a Deployment with maxSurge): a new instance starts on a
//     new port, HAProxy adds it (runtime API) and sees it UP, then the old one gets SIGTERM; the old
//     address stays dead and HAProxy only learns it from its health check;
//   restart (as systemd restarts a unit): SIGTERM, exit, start again on the same port, wait for UP.
// A full run rolls both ways (one result file each: rolling-restart.json, rolling-restart-restart.json).
// Once with QUIESCE_LAME_DUCK_MS long enough for HAProxy's health check to notice (inter × fall, plus
// margin), once with 0. Every response that is not a 200, and every ambiguous, refused or failed
// request, is an error the user saw; a probe client also records the latency of each request.
// The example app runs on each Node line asked for (--lines); the load and HAProxy are the same for
// every line. Goal: 0 errors with the lame duck on every line; the run without it shows why it matters.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, sleep } from './lib/cli.mjs';

const PART = { part: 6, name: 'rolling-restart', title: 'Part 6 — rolling restart behind HAProxy' };
const { settings, mode } = parseArgs(process.argv.slice(2), {
  defaults: {
    rounds: 3,
    roll: ['replace', 'restart'],
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
  // The smoke's lame duck is long enough that a loaded CI machine cannot turn it into a timing test.
  smoke: { rounds: 1, roll: ['replace'], lameDuckMs: 2_000, warmMs: 300, pauseMs: 200 },
  help:
    'node bench/6-rolling-restart.mjs [--smoke] [--lines=all|default|20,22,24,26] [--rounds=3] [--roll=replace,restart] [--lame-duck-ms=1000] [--deadline-ms=10000] [--check-inter-ms=200]\n' +
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
const badRoll = settings.roll.find((roll) => roll !== 'replace' && roll !== 'restart');
if (badRoll !== undefined || settings.roll.length === 0) throw new Error(`--roll must be replace, restart or both (replace,restart), got ${JSON.stringify(settings.roll.join(','))}.`);
if (!settings.runtimes.includes('node')) {
  console.log('Part 6 runs the example app on Node only: nothing to do without node in --runtimes.');
  process.exit(0);
}
const haproxyVersion = ensureHaproxy();

const { createChecks } = await import('./lib/checks.mjs');
const { describeEnvironment } = await import('./lib/environment.mjs');
const { goalRecord, printGoals, spread, verdictAtMost } = await import('./lib/goals.mjs');
const { killAllServers, openConnection, runKeepAliveLoad, startServer } = await import('./lib/harness.mjs');
const { writeResult } = await import('./lib/results.mjs');
const { median, round } = await import('./lib/stats.mjs');
const { formatTable } = await import('./lib/table.mjs');
const { onTarget, selectTargets } = await import('./lib/targets.mjs');
const targets = selectTargets({ runtimes: ['node'], lines: settings.lines });

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

function startExample(target, port, lameDuckMs) {
  return onTarget(target, () =>
    startServer({
      runtime: 'node',
      script: exampleScript,
      env: { PORT: String(port), QUIESCE_LAME_DUCK_MS: String(lameDuckMs), QUIESCE_DEADLINE_MS: String(settings.deadlineMs) },
    }),
  );
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

async function rollingRun(roll, target, lameDuckMs) {
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-bench-haproxy-'));
  const socket = join(dir, 'admin.sock');
  const frontPort = await freePort();
  const backPorts = [await freePort(), await freePort(), await freePort()];
  const configFile = join(dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig({ frontPort, backPorts, socket }));
  const instances = [];
  let haproxy;
  try {
    for (const port of backPorts) instances.push(await startExample(target, port, lameDuckMs));
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
      if (roll === 'replace') {
        // Surge: the replacement joins first, on a new port, in an empty slot.
        const port = await freePort();
        instances.push(await startExample(target, port, lameDuckMs));
        slot = `s${backPorts.length + i + 1}`;
        await haproxyCommand(socket, `set server be/${slot} addr 127.0.0.1 port ${port}`);
        await haproxyCommand(socket, `set server be/${slot} state ready`);
        await waitForStatus(socket, slot, 'UP');
      }
      const signalledAt = performance.now();
      old.kill('SIGTERM');
      const exit = await Promise.race([old.exited, sleep(settings.deadlineMs + 5_000).then(() => undefined)]);
      if (!exit) await old.stop();
      if (roll === 'restart') {
        instances[i] = await startExample(target, backPorts[i], lameDuckMs);
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

// A correctness problem in one roll sets the exit code; the other roll still runs and is written.
for (const roll of settings.roll) await measureRoll(roll);

/** Every round of `roll` on every line, then its table, goals, checks and result file. */
async function measureRoll(roll) {
  const runs = Object.fromEntries(targets.map((t) => [t.key, { lameDuck: [], noLameDuck: [] }]));
  console.log(`${PART.title} (${mode}, ${roll}). ${describeEnvironment()}; ${haproxyVersion}`);
  console.log(`Runs on: ${targets.map((t) => t.on).join(', ')} (load and probe on node ${process.versions.node}).`);
  try {
    for (let r = 0; r < settings.rounds; r++) {
      for (const target of targets) {
        for (const [key, lameDuckMs] of r % 2 === 0 ? [['lameDuck', settings.lameDuckMs], ['noLameDuck', 0]] : [['noLameDuck', 0], ['lameDuck', settings.lameDuckMs]]) {
          const run = await rollingRun(roll, target, lameDuckMs);
          runs[target.key][key].push(run);
          console.log(
            `  round ${r + 1}/${settings.rounds}, ${target.on}, QUIESCE_LAME_DUCK_MS=${lameDuckMs}: ${run.attempts} requests, ${run.errors} errors ` +
              `(non-200 ${JSON.stringify(run.non200)}, ambiguous ${run.ambiguous}, refused ${run.refused}), probe p99 ${run.probeP99Ms} ms, ` +
              `max ${run.probeMaxMs} ms, roll ${run.rollMs} ms`,
          );
        }
      }
    }
  } finally {
    await killAllServers();
  }

  const rows = [];
  const goals = [];
  const checks = createChecks('part 6');
  const chartGroups = [];
  for (const target of targets) {
    const bars = [];
    for (const [key, list] of Object.entries(runs[target.key])) {
      const lameDuckMs = key === 'lameDuck' ? settings.lameDuckMs : 0;
      const non200 = {};
      for (const run of list) for (const [s, n] of Object.entries(run.non200)) non200[s] = (non200[s] ?? 0) + n;
      const errors = list.reduce((n, r) => n + r.errors, 0);
      const exitCodes = [...new Set(list.flatMap((r) => r.steps.map((s) => s.exitCode)))].join('/');
      const row = {
        target: target.key,
        on: target.on,
        label: `${target.label} ${roll}, QUIESCE_LAME_DUCK_MS=${lameDuckMs}`,
        lameDuckMs,
        errorsMedian: round(median(list.map((r) => r.errors))),
        errorsTotal: `${errors} of ${list.reduce((n, r) => n + r.attempts, 0)}`,
        non200: Object.entries(non200).map(([s, n]) => `${s}×${n}`).join(', ') || '-',
        ambiguous: list.reduce((n, r) => n + r.ambiguous, 0),
        refused: list.reduce((n, r) => n + r.refused, 0),
        requests: round(median(list.map((r) => r.attempts))),
        rollMs: round(median(list.map((r) => r.rollMs))),
        probeP99Ms: round(median(list.map((r) => r.probeP99Ms)), 1),
        probeMaxMs: round(Math.max(...list.map((r) => r.probeMaxMs)), 1),
        probeOver500Ms: list.reduce((n, r) => n + r.probeOver500Ms, 0),
        instanceExitMs: round(median(list.flatMap((r) => r.steps.map((s) => s.exitMs)))),
        exitCodes,
      };
      rows.push(row);
      const s = spread(list.map((r) => r.errors));
      bars.push({ label: `lame duck ${lameDuckMs} ms`, value: s?.median ?? Number.NaN, min: s?.min, max: s?.max, kind: lameDuckMs ? 'quiesce' : 'control' });
      if (!lameDuckMs) continue;
      goals.push(
        goalRecord({
          part: PART.part,
          target,
          row: row.label,
          metric: 'errors',
          measure: `errors in ${list.length} rolling restarts of 3 instances`,
          goal: '0',
          value: errors,
          digits: 0,
          verdict: verdictAtMost(errors, 0),
          detail: `of ${row.errorsTotal.split(' of ')[1]} requests${row.non200 !== '-' ? `; ${row.non200}` : ''}`,
        }),
      );
      // Correctness: not one request lost with the lame duck, every instance exited 0.
      checks.expect(errors === 0, `${row.label}: ${errors} errors (non-200 ${row.non200}, ambiguous ${row.ambiguous}, refused ${row.refused})`);
      checks.expect(exitCodes === '0', `${row.label}: instance exit code(s) ${exitCodes}, expected 0`);
    }
    chartGroups.push({ label: target.on, bars });
  }
  const columns = [
    { key: 'label', title: 'run', align: 'left' },
    { key: 'on', title: 'runs on', align: 'left' },
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
    { key: 'exitCodes', title: 'exit' },
  ];
  console.log(`\n${formatTable(columns, rows)}`);
  printGoals(goals, mode);
  const name = roll === 'replace' ? PART.name : `${PART.name}-${roll}`;
  const title = `${PART.title} (${roll === 'replace' ? 'replace' : 'restart in place'})`;
  const file = writeResult(name, {
    ...PART,
    name,
    title,
    mode,
    settings: { ...settings, roll, haproxy: haproxyVersion },
    targets,
    columns,
    rows,
    goals,
    chart: {
      title: `${title}: 3 instances of the example app, rolled under load`,
      note: `requests that did not get a 200, per roll; median of ${settings.rounds} rolls`,
      goalLegend: 'goal: 0 with the lame duck',
      kindNames: { quiesce: `Quiesce, lame duck ${settings.lameDuckMs} ms`, control: 'Quiesce without a lame duck' },
      panels: [{ title: 'errors per rolling restart', digits: 0, goal: { value: 0, label: 'goal: 0 errors with the lame duck' }, groups: chartGroups }],
    },
    notes: [
      `HAProxy (Debian), HTTP mode, defaults otherwise (retries 3, no redispatch, http-reuse safe): health check GET /readyz every ${settings.checkInterMs} ms, fall ${settings.checkFall}, rise 1; timeout connect 1s.`,
      'Load: the conformance harness runKeepAliveLoad through HAProxy; an error is any attempt that did not end in a 200.',
      `runs on: the Node line of the example app instances; the load and the probe run on node ${process.versions.node}.`,
      roll === 'replace'
        ? 'Each instance: a replacement starts on a new port and HAProxy adds it (runtime API) and sees it UP; then SIGTERM to the old one, wait for its exit, pause, next. The old address stays dead.'
        : 'Each instance: SIGTERM, wait for exit, start again on the same port, wait until HAProxy reports it UP, pause, next.',
      'probe: one extra client sending requests back to back through HAProxy, timing each (failures included).',
    ],
    raw: runs,
  });
  console.log(`wrote ${file}`);
  checks.finish();
}
