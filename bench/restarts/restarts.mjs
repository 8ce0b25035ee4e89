#!/usr/bin/env node
// Restarts under load: how many requests fail while a server restarts, per restart and per mode.
//
//   node bench/restarts/restarts.mjs [--restarts 5] [--interval-ms 1000]
//        [--keep-alive 8] [--fresh 4] [--json <file>] [--node <path of a node binary>]
//        [--modes hot-node,hot-node-lifecycle,hot-node-hard,run-node,run-bun,run-deno,run-node-hard,naive-node,cluster-node]
//
// Needs the build (`npm run build`). Each mode starts app.mjs (beside this file), runs bounded
// loopback load — keep-alive clients (requests back to back on one connection, reconnecting after
// `Connection: close`) and fresh-connection clients (one request per connection) — restarts the
// server `--restarts` times, waiting for each new process to be ready and the old one to exit, then
// stops. A request is `ok` (a complete response), `refused` (no connection: nothing was sent) or
// `lost` (sent, then the connection closed or reset without a complete response). Modes:
//   hot-node       Node, SIGUSR2 hot restart (fd hand-off), soft drain (idle sockets closed after 250 ms)
//   hot-node-hard  the same, idle sockets closed at once
//   hot-node-lifecycle  Node, SIGUSR2 hot restart wired as apps/example is (quiesce lifecycle + node adapter)
//   run-node|bun|deno  `quiesce run` + SIGHUP, soft drain
//   run-node-hard  `quiesce run` + SIGHUP on Node, idle sockets closed at once
// and two anchors without Quiesce:
//   naive-node     naive-app.mjs: SIGTERM (server.close(), exit), wait for the exit, start again on the same port
//   cluster-node   cluster-app.mjs: a Node `cluster` primary with one worker, replaced on SIGHUP as
//                  `pm2 reload` does it (fork, 'listening', SIGINT to the old worker, SIGKILL after 1 600 ms)
// `--node` is the Node every Node process of a mode runs on (the servers, `quiesce run`, the
// naive server, the cluster primary and its workers; default the Node running this script, which
// always runs the load clients). `--json <file>` also writes every mode's counts, per restart, as JSON (bench/5-restarts-under-load.mjs
// turns it into bench/results/restarts.json). Every process started here, and every process whose pid
// they print, is killed at the end, also when a mode fails or this script gets SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const app = join(here, 'app.mjs');
const lifecycleApp = join(here, 'lifecycle-app.mjs');
const quiesce = join(here, 'quiesce.mjs');
const naiveApp = join(here, 'naive-app.mjs');
const clusterApp = join(here, 'cluster-app.mjs');

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const RESTARTS = Number(flag('restarts', 5));
const INTERVAL_MS = Number(flag('interval-ms', 1000));
const KEEP_ALIVE = Number(flag('keep-alive', 8));
const FRESH = Number(flag('fresh', 4));
const MODES = flag('modes', 'hot-node,hot-node-lifecycle,hot-node-hard,run-node,run-bun,run-deno,run-node-hard,naive-node,cluster-node').split(',');
const JSON_FILE = flag('json', undefined);
const NODE = flag('node', process.execPath);
if (!existsSync(NODE)) {
  console.error(`restarts.mjs: --node ${NODE} does not exist`);
  process.exit(2);
}
const STEP_TIMEOUT_MS = 30_000;
const MAX_REQUESTS = 2_000_000;
const MAX_DURATION_MS = RESTARTS * (INTERVAL_MS + STEP_TIMEOUT_MS) + 10_000;
for (const [name, value] of Object.entries({ RESTARTS, INTERVAL_MS, KEEP_ALIVE, FRESH })) {
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name.toLowerCase().replace('_', '-')} must be a whole number ≥ 0`);
}
if (!existsSync(join(root, 'packages/listener/dist/index.js')) || !existsSync(join(root, 'packages/quiesce/dist/index.js'))) {
  console.error('restarts.mjs: build first: npm run build');
  process.exit(2);
}

const runtimes = {
  node: { command: NODE, args: [app], env: {} },
  bun: { command: join(root, 'node_modules/bun/bin/bun.exe'), args: [app], env: { NO_COLOR: '1' } },
  deno: { command: join(root, 'node_modules/deno/deno'), args: ['run', '-A', '--quiet', app], env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } },
};

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
/** Fields of /proc/<pid>/stat after the command name: [state, ppid, …]; undefined when gone. */
const procStat = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
};
const alive = (pid) => {
  const stat = procStat(pid);
  return stat !== undefined && stat[0] !== 'Z';
};
async function until(test, what) {
  const limit = Date.now() + STEP_TIMEOUT_MS;
  while (!test()) {
    if (Date.now() > limit) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// Every process this script started or that printed its pid (hot-restart generations, `quiesce run`
// generations, cluster workers), with its start time so that a reused pid is never killed.
const tracked = new Map();
const track = (pid) => {
  const startTime = procStat(pid)?.[19];
  if (startTime !== undefined && !tracked.has(pid)) tracked.set(pid, startTime);
};
function killTracked() {
  for (const [pid, startTime] of tracked) {
    const stat = procStat(pid);
    if (stat && stat[19] === startTime && stat[0] !== 'Z') {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    } else tracked.delete(pid);
  }
}
process.on('exit', killTracked);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killTracked();
    process.exit(130);
  });
}

/** Starts a process and collects its output lines (both streams); `exit` is set once it exited. */
function start(command, commandArgs, env) {
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  track(child.pid);
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (text) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop();
      lines.push(...parts);
      for (const line of parts) for (const match of line.matchAll(/\bpid (\d+)/g)) track(Number(match[1]));
    });
  }
  const proc = { child, lines, exit: undefined };
  proc.exited = new Promise((done) =>
    child.once('exit', (code, signal) => {
      proc.exit = { code, signal };
      done(proc.exit);
    }),
  );
  return proc;
}

/** Waits for a line matching `pattern` from `proc`, failing early (with its last lines) if it exits. */
async function lineFrom(proc, pattern, what) {
  await until(() => {
    if (proc.lines.some((l) => pattern.test(l))) return true;
    if (proc.exit) throw new Error(`${what} exited (${proc.exit.code ?? proc.exit.signal}): ${proc.lines.slice(-3).join(' | ')}`);
    return false;
  }, what);
  return proc.lines.find((l) => pattern.test(l));
}

/** SIGTERM, then SIGKILL if it is still running after the step timeout. */
async function terminate(proc) {
  if (proc.exit) return;
  proc.child.kill('SIGTERM');
  let timer;
  const timeout = new Promise((done) => {
    timer = setTimeout(done, STEP_TIMEOUT_MS);
  });
  const exit = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  if (!exit) proc.child.kill('SIGKILL');
}

// ---- load: a tiny HTTP/1.1 client that sees exactly how each request ended ----

/** One connection; `get()` sends a request and resolves with the response, or rejects with `lost`. */
function open(port, closeAfter) {
  return new Promise((resolveOpen, rejectOpen) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = '';
    let pending;
    const conn = {
      closed: false,
      get() {
        if (conn.closed) return Promise.reject(Object.assign(new Error('stale'), { stale: true }));
        return new Promise((ok, fail) => {
          const timer = setTimeout(() => fail(new Error('lost: timeout')), 10_000);
          pending = {
            ok: (value) => {
              clearTimeout(timer);
              ok(value);
            },
            fail: (error) => {
              clearTimeout(timer);
              fail(error);
            },
          };
          socket.write(`GET / HTTP/1.1\r\nHost: bench\r\n${closeAfter ? 'Connection: close\r\n' : ''}\r\n`);
        });
      },
      destroy: () => socket.destroy(),
    };
    const parse = () => {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0 || !pending) return;
      const head = buffer.slice(0, end).toLowerCase();
      const length = Number(/\r\ncontent-length: *(\d+)/.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      buffer = buffer.slice(end + 4 + length);
      const done = pending;
      pending = undefined;
      done.ok({ close: /\r\nconnection: *close/.test(head) });
    };
    const gone = (why) => {
      conn.closed = true;
      if (pending) {
        const done = pending;
        pending = undefined;
        done.fail(new Error(`lost: ${why}`));
      }
    };
    socket.setEncoding('latin1');
    socket.on('data', (text) => {
      buffer += text;
      parse();
    });
    // Settled by 'connect', or by an error or close before it (a refused connection: on ECONNREFUSED
    // `socket.connecting` is already false, so it cannot tell), or by the connect timeout.
    let connected = false;
    const connectTimer = setTimeout(() => socket.destroy(new Error('connect timeout')), 10_000);
    socket.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      resolveOpen(conn);
    });
    socket.on('error', (error) => {
      if (connected) gone(error.code ?? error.message);
      else rejectOpen(error);
    });
    socket.on('end', () => gone('FIN'));
    socket.on('close', () => {
      clearTimeout(connectTimer);
      if (connected) gone('closed');
      else rejectOpen(new Error('closed before connecting'));
    });
  });
}

function runLoad(port) {
  const events = [];
  const started = Date.now();
  let stopped = false;
  let issued = 0;
  const more = () => !stopped && issued++ < MAX_REQUESTS && Date.now() - started < MAX_DURATION_MS;
  // `why`: how a request failed (ECONNREFUSED, ECONNRESET, FIN, closed, timeout …).
  const record = (kind, outcome, why) => events.push({ at: Date.now(), kind, outcome, why });
  const reason = (error) => error.code ?? error.message.replace(/^lost: /, '');
  const keepAliveClient = async () => {
    let conn;
    while (more()) {
      if (!conn || conn.closed) {
        conn?.destroy();
        try {
          conn = await open(port, false);
        } catch (error) {
          record('keep-alive', 'refused', reason(error));
          await sleep(5);
          continue;
        }
      }
      try {
        const response = await conn.get();
        record('keep-alive', 'ok');
        if (response.close) {
          conn.destroy();
          conn = undefined;
        }
      } catch (error) {
        if (error.stale) {
          issued--;
          continue;
        }
        record('keep-alive', 'lost', reason(error));
        conn.destroy();
        conn = undefined;
      }
    }
    conn?.destroy();
  };
  const freshClient = async () => {
    while (more()) {
      let conn;
      try {
        conn = await open(port, true);
      } catch (error) {
        record('fresh', 'refused', reason(error));
        await sleep(5);
        continue;
      }
      try {
        await conn.get();
        record('fresh', 'ok');
      } catch (error) {
        record('fresh', 'lost', reason(error));
      } finally {
        conn.destroy();
      }
    }
  };
  const clients = [...Array.from({ length: KEEP_ALIVE }, keepAliveClient), ...Array.from({ length: FRESH }, freshClient)];
  return {
    events,
    async stop() {
      stopped = true;
      await Promise.all(clients);
    },
  };
}

// ---- modes ----

const signal = (pid, name) => {
  try {
    process.kill(pid, name);
  } catch {}
};

async function hotRestartMode(hard, script = app) {
  const server = start(runtimes.node.command, [script], { PORT: '0', DRAIN: hard ? 'hard' : 'soft' });
  const listening = await lineFrom(server, / listening on /, 'the server');
  const port = Number(/:(\d+) \(/.exec(listening)[1]);
  let current = server.child.pid;
  const readyLines = () => server.lines.filter((l) => /^hot restart: pid \d+ is ready/.test(l));
  return {
    port,
    async restart(i) {
      const old = current;
      process.kill(old, 'SIGUSR2');
      await until(() => readyLines().length === i, `hot restart ${i}`);
      current = Number(/pid (\d+) is ready/.exec(readyLines()[i - 1])[1]);
      await until(() => !alive(old), `pid ${old} to exit`);
    },
    async stop() {
      signal(current, 'SIGTERM');
      await until(() => !alive(current), `pid ${current} to exit`).catch(() => {});
    },
  };
}

async function supervisorMode(runtime, hard) {
  const rt = runtimes[runtime];
  if (!existsSync(rt.command)) return undefined;
  const sup = start(NODE, [quiesce, 'run', '--listen', '127.0.0.1:0', '--', rt.command, ...rt.args], {
    ...rt.env,
    DRAIN: hard ? 'hard' : 'soft',
  });
  await lineFrom(sup, /generation 1 \(pid \d+\) ready/, 'generation 1');
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(sup.lines.find((l) => l.includes('quiesce run: listening on')))[1]);
  return {
    port,
    async restart(i) {
      sup.child.kill('SIGHUP');
      await lineFrom(sup, new RegExp(`generation ${i + 1} \\(pid \\d+\\) ready`), `generation ${i + 1}`);
      await lineFrom(sup, new RegExp(`generation ${i} \\(pid \\d+\\) exited`), `generation ${i} to exit`);
    },
    stop: () => terminate(sup),
  };
}

/** The anchor without Quiesce: stop (SIGTERM, server.close()), wait for the exit, start again on the same port. */
async function naiveMode() {
  let server = start(NODE, [naiveApp], { PORT: '0' });
  const port = Number(/:(\d+)$/.exec(await lineFrom(server, / listening on /, 'the naive server'))[1]);
  return {
    port,
    async restart(i) {
      server.child.kill('SIGTERM');
      await until(() => server.exit !== undefined, `the naive server (restart ${i}) to exit`);
      server = start(NODE, [naiveApp], { PORT: String(port) });
      await lineFrom(server, / listening on /, `the naive server (restart ${i})`);
    },
    stop: () => terminate(server),
  };
}

/** The cluster anchor: the primary replaces its worker on SIGHUP as `pm2 reload` does. */
async function clusterMode() {
  const primary = start(NODE, [clusterApp], { PORT: '0' });
  const port = Number(/:(\d+)$/.exec(await lineFrom(primary, /worker pid \d+ listening on /, 'the cluster primary'))[1]);
  const reloads = () => primary.lines.filter((l) => l.startsWith('cluster reload: '));
  return {
    port,
    async restart(i) {
      primary.child.kill('SIGHUP');
      await until(() => {
        if (primary.exit) throw new Error(`the cluster primary exited: ${primary.lines.slice(-3).join(' | ')}`);
        return reloads().length === i;
      }, `cluster reload ${i}`);
    },
    stop: () => terminate(primary),
  };
}

/** name -> how to start it, a label for tables and what it is: Quiesce, a control (Quiesce with idle sockets closed at once) or an anchor. */
const modes = {
  'hot-node': { run: () => hotRestartMode(false), label: 'Quiesce hot restart, Node (SIGUSR2)', kind: 'quiesce' },
  'hot-node-lifecycle': { run: () => hotRestartMode(false, lifecycleApp), label: 'Quiesce hot restart via lifecycle, Node', kind: 'quiesce' },
  'hot-node-hard': { run: () => hotRestartMode(true), label: 'control: hot restart, idle closed at once', kind: 'control' },
  'run-node': { run: () => supervisorMode('node', false), label: 'quiesce run, Node (SIGHUP)', kind: 'quiesce' },
  'run-bun': { run: () => supervisorMode('bun', false), label: 'quiesce run, Bun (SIGHUP)', kind: 'quiesce' },
  'run-deno': { run: () => supervisorMode('deno', false), label: 'quiesce run, Deno (SIGHUP)', kind: 'quiesce' },
  'run-node-hard': { run: () => supervisorMode('node', true), label: 'control: quiesce run, idle closed at once', kind: 'control' },
  'naive-node': { run: naiveMode, label: 'naive stop-then-start, Node', kind: 'anchor' },
  'cluster-node': { run: clusterMode, label: 'Node cluster, 1 worker, as pm2 reload', kind: 'anchor' },
};
for (const name of MODES) {
  if (!modes[name]) {
    console.error(`unknown mode ${name}; modes: ${Object.keys(modes).join(', ')}`);
    process.exit(2);
  }
}

const count = (events, kind, outcome) => events.filter((e) => e.kind === kind && e.outcome === outcome).length;
const cell = (events, kind) => {
  const failed = count(events, kind, 'refused') + count(events, kind, 'lost');
  const detail = failed ? ` (${count(events, kind, 'lost')} lost, ${count(events, kind, 'refused')} refused)` : '';
  return `${String(count(events, kind, 'ok')).padStart(6)} ok ${String(failed).padStart(4)} failed${detail}`;
};
const counts = (events) => {
  const of = (kind) => ({ ok: count(events, kind, 'ok'), lost: count(events, kind, 'lost'), refused: count(events, kind, 'refused') });
  const keepAlive = of('keep-alive');
  const fresh = of('fresh');
  // How the failed ones failed, e.g. { 'keep-alive lost ECONNRESET': 8 }.
  const how = {};
  for (const e of events) if (e.outcome !== 'ok') how[`${e.kind} ${e.outcome} ${e.why}`] = (how[`${e.kind} ${e.outcome} ${e.why}`] ?? 0) + 1;
  return { keepAlive, fresh, failed: keepAlive.lost + keepAlive.refused + fresh.lost + fresh.refused, how };
};
/** The longest time between two consecutive ok responses (any client) where the later one falls in [from, to). */
const longestGap = (events, from, to) => {
  let gap = 0;
  let previous;
  for (const e of events) {
    if (e.outcome !== 'ok') continue;
    if (previous !== undefined && e.at >= from && e.at < to) gap = Math.max(gap, e.at - previous);
    previous = e.at;
    if (e.at >= to) break;
  }
  return gap;
};

console.log(
  `restarts: ${RESTARTS} per mode, ${INTERVAL_MS} ms apart; load: ${KEEP_ALIVE} keep-alive + ${FRESH} fresh-connection clients on 127.0.0.1; Node processes on ${NODE}`,
);
const summary = [];
const report = [];
for (const name of MODES) {
  const mode = modes[name];
  let target;
  let load;
  const marks = [];
  let problem;
  try {
    target = await mode.run();
    if (!target) {
      console.log(`\n${name}: skipped (runtime binary not installed)`);
      report.push({ name, label: mode.label, kind: mode.kind, skipped: 'runtime binary not installed' });
      continue;
    }
    load = runLoad(target.port);
    await sleep(INTERVAL_MS);
    for (let i = 1; i <= RESTARTS; i++) {
      marks.push(Date.now());
      await target.restart(i);
      await sleep(INTERVAL_MS);
    }
  } catch (error) {
    problem = error.message;
  } finally {
    await load?.stop();
    await target?.stop().catch(() => {});
    // Whatever the mode left behind (a generation that did not exit, a worker): gone before the next.
    killTracked();
  }
  const events = load?.events ?? [];
  const windows = [{ label: 'before', from: 0, to: marks[0] ?? Number.POSITIVE_INFINITY }];
  marks.forEach((from, i) => {
    windows.push({ label: `restart ${i + 1}`, from, to: marks[i + 1] ?? Number.POSITIVE_INFINITY });
  });
  console.log(`\n${name}${problem ? ` (stopped early: ${problem})` : ''}`);
  console.log(`  ${'window'.padEnd(10)} ${'keep-alive'.padEnd(40)} fresh connections`);
  for (const w of windows) {
    const inWindow = events.filter((e) => e.at >= w.from && e.at < w.to);
    console.log(`  ${w.label.padEnd(10)} ${cell(inWindow, 'keep-alive').padEnd(40)} ${cell(inWindow, 'fresh')}`);
  }
  const failed = events.filter((e) => e.outcome !== 'ok').length;
  console.log(`  ${'total'.padEnd(10)} ${cell(events, 'keep-alive').padEnd(40)} ${cell(events, 'fresh')}`);
  summary.push({ name, restarts: marks.length, failed, requests: events.length });
  report.push({
    name,
    label: mode.label,
    kind: mode.kind,
    problem,
    restarts: marks.length,
    requests: events.length,
    total: counts(events),
    before: counts(events.filter((e) => e.at < windows[0].to)),
    // A restart's window runs from its signal to the next restart's (the last one: to the end of the load).
    perRestart: windows.slice(1).map((w) => ({
      ...counts(events.filter((e) => e.at >= w.from && e.at < w.to)),
      longestGapMs: longestGap(events, w.from, w.to),
    })),
  });
}
console.log('\nsummary (failed requests over all restarts):');
for (const s of summary) console.log(`  ${s.name.padEnd(20)} ${String(s.failed).padStart(5)} failed of ${s.requests} in ${s.restarts} restarts`);
if (JSON_FILE) {
  const settings = { restarts: RESTARTS, intervalMs: INTERVAL_MS, keepAlive: KEEP_ALIVE, fresh: FRESH, modes: MODES, node: NODE };
  writeFileSync(JSON_FILE, `${JSON.stringify({ settings, modes: report }, null, 2)}\n`);
}
process.exitCode = report.some((r) => r.problem) ? 1 : 0;
