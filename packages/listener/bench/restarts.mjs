#!/usr/bin/env node
// Restarts under load: how many requests fail while a server restarts, per restart and per mode.
//
//   node packages/listener/bench/restarts.mjs [--restarts 5] [--interval-ms 1000]
//        [--keep-alive 8] [--fresh 4] [--modes hot-node,hot-node-lifecycle,hot-node-hard,run-node,run-bun,run-deno,run-node-hard]
//
// Needs the build (`npx tsup` in packages/listener). Each mode starts bench/app.mjs, runs bounded
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
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const app = join(here, 'app.mjs');
const lifecycleApp = join(here, 'lifecycle-app.mjs');
const quiesce = join(here, 'quiesce.mjs');

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const RESTARTS = Number(flag('restarts', 5));
const INTERVAL_MS = Number(flag('interval-ms', 1000));
const KEEP_ALIVE = Number(flag('keep-alive', 8));
const FRESH = Number(flag('fresh', 4));
const MODES = flag('modes', 'hot-node,hot-node-lifecycle,hot-node-hard,run-node,run-bun,run-deno,run-node-hard').split(',');
const STEP_TIMEOUT_MS = 30_000;
const MAX_REQUESTS = 2_000_000;
const MAX_DURATION_MS = RESTARTS * (INTERVAL_MS + STEP_TIMEOUT_MS) + 10_000;
for (const [name, value] of Object.entries({ RESTARTS, INTERVAL_MS, KEEP_ALIVE, FRESH })) {
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name.toLowerCase().replace('_', '-')} must be a whole number ≥ 0`);
}
if (!existsSync(join(here, '../dist/index.js'))) {
  console.error('restarts.mjs: build first: (cd packages/listener && npx tsup)');
  process.exit(2);
}

const runtimes = {
  node: { command: process.execPath, args: [app], env: {} },
  bun: { command: join(root, 'node_modules/bun/bin/bun.exe'), args: [app], env: { NO_COLOR: '1' } },
  deno: { command: join(root, 'node_modules/deno/deno'), args: ['run', '-A', '--quiet', app], env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } },
};

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};
async function until(test, what) {
  const limit = Date.now() + STEP_TIMEOUT_MS;
  while (!test()) {
    if (Date.now() > limit) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Starts a process and collects its output lines (both streams). */
function start(command, commandArgs, env) {
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (text) => {
      const parts = (partial + text).split('\n');
      partial = parts.pop();
      lines.push(...parts);
    });
  }
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { child, lines, exited };
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
    socket.once('connect', () => resolveOpen(conn));
    socket.on('error', (error) => {
      if (!socket.connecting) gone(error.code ?? error.message);
      else rejectOpen(error);
    });
    socket.on('end', () => gone('FIN'));
    socket.on('close', () => gone('closed'));
  });
}

function runLoad(port) {
  const events = [];
  const started = Date.now();
  let stopped = false;
  let issued = 0;
  const more = () => !stopped && issued++ < MAX_REQUESTS && Date.now() - started < MAX_DURATION_MS;
  const record = (kind, outcome) => events.push({ at: Date.now(), kind, outcome });
  const keepAliveClient = async () => {
    let conn;
    while (more()) {
      if (!conn || conn.closed) {
        conn?.destroy();
        try {
          conn = await open(port, false);
        } catch {
          record('keep-alive', 'refused');
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
        record('keep-alive', 'lost');
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
      } catch {
        record('fresh', 'refused');
        await sleep(5);
        continue;
      }
      try {
        await conn.get();
        record('fresh', 'ok');
      } catch {
        record('fresh', 'lost');
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

async function hotRestartMode(hard, script = app) {
  const server = start(runtimes.node.command, [script], { PORT: '0', DRAIN: hard ? 'hard' : 'soft' });
  await until(() => server.lines.some((l) => l.includes(' listening on ')), 'the server');
  const port = Number(/:(\d+) \(/.exec(server.lines.find((l) => l.includes(' listening on ')))[1]);
  let current = server.child.pid;
  const pids = [current];
  const readyLines = () => server.lines.filter((l) => /^hot restart: pid \d+ is ready/.test(l));
  return {
    port,
    async restart(i) {
      const old = current;
      process.kill(old, 'SIGUSR2');
      await until(() => readyLines().length === i, `hot restart ${i}`);
      current = Number(/pid (\d+) is ready/.exec(readyLines()[i - 1])[1]);
      pids.push(current);
      await until(() => !alive(old), `pid ${old} to exit`);
    },
    async stop() {
      process.kill(current, 'SIGTERM');
      await until(() => !alive(current), `pid ${current} to exit`).catch(() => {});
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    },
  };
}

async function supervisorMode(runtime, hard) {
  const rt = runtimes[runtime];
  if (!existsSync(rt.command)) return undefined;
  const sup = start(process.execPath, [quiesce, 'run', '--listen', '127.0.0.1:0', '--', rt.command, ...rt.args], {
    ...rt.env,
    DRAIN: hard ? 'hard' : 'soft',
  });
  await until(() => sup.lines.some((l) => /generation 1 \(pid \d+\) ready/.test(l)), 'generation 1');
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(sup.lines.find((l) => l.includes('quiesce run: listening on')))[1]);
  const seen = (pattern) => sup.lines.some((l) => pattern.test(l));
  return {
    port,
    async restart(i) {
      sup.child.kill('SIGHUP');
      await until(() => seen(new RegExp(`generation ${i + 1} \\(pid \\d+\\) ready`)), `generation ${i + 1}`);
      await until(() => seen(new RegExp(`generation ${i} \\(pid \\d+\\) exited`)), `generation ${i} to exit`);
    },
    async stop() {
      sup.child.kill('SIGTERM');
      const exit = await Promise.race([sup.exited, sleep(STEP_TIMEOUT_MS).then(() => undefined)]);
      if (!exit) sup.child.kill('SIGKILL');
    },
  };
}

const modes = {
  'hot-node': () => hotRestartMode(false),
  'hot-node-hard': () => hotRestartMode(true),
  'hot-node-lifecycle': () => hotRestartMode(false, lifecycleApp),
  'run-node': () => supervisorMode('node', false),
  'run-bun': () => supervisorMode('bun', false),
  'run-deno': () => supervisorMode('deno', false),
  'run-node-hard': () => supervisorMode('node', true),
};

const count = (events, kind, outcome) => events.filter((e) => e.kind === kind && e.outcome === outcome).length;
const cell = (events, kind) => {
  const failed = count(events, kind, 'refused') + count(events, kind, 'lost');
  const detail = failed ? ` (${count(events, kind, 'lost')} lost, ${count(events, kind, 'refused')} refused)` : '';
  return `${String(count(events, kind, 'ok')).padStart(6)} ok ${String(failed).padStart(4)} failed${detail}`;
};

console.log(`restarts: ${RESTARTS} per mode, ${INTERVAL_MS} ms apart; load: ${KEEP_ALIVE} keep-alive + ${FRESH} fresh-connection clients on 127.0.0.1`);
const summary = [];
for (const name of MODES) {
  if (!modes[name]) {
    console.error(`unknown mode ${name}; modes: ${Object.keys(modes).join(', ')}`);
    process.exit(2);
  }
  const target = await modes[name]();
  if (!target) {
    console.log(`\n${name}: skipped (runtime binary not installed)`);
    continue;
  }
  const load = runLoad(target.port);
  const marks = [];
  let problem;
  try {
    await sleep(INTERVAL_MS);
    for (let i = 1; i <= RESTARTS; i++) {
      marks.push(Date.now());
      await target.restart(i);
      await sleep(INTERVAL_MS);
    }
  } catch (error) {
    problem = error.message;
  }
  await load.stop();
  await target.stop();
  const windows = [{ label: 'before', from: 0, to: marks[0] ?? Number.POSITIVE_INFINITY }];
  marks.forEach((from, i) => {
    windows.push({ label: `restart ${i + 1}`, from, to: marks[i + 1] ?? Number.POSITIVE_INFINITY });
  });
  console.log(`\n${name}${problem ? ` (stopped early: ${problem})` : ''}`);
  console.log(`  ${'window'.padEnd(10)} ${'keep-alive'.padEnd(40)} fresh connections`);
  for (const w of windows) {
    const events = load.events.filter((e) => e.at >= w.from && e.at < w.to);
    console.log(`  ${w.label.padEnd(10)} ${cell(events, 'keep-alive').padEnd(40)} ${cell(events, 'fresh')}`);
  }
  const failed = load.events.filter((e) => e.outcome !== 'ok').length;
  console.log(`  ${'total'.padEnd(10)} ${cell(load.events, 'keep-alive').padEnd(40)} ${cell(load.events, 'fresh')}`);
  summary.push({ name, restarts: marks.length, failed, requests: load.events.length });
}
console.log('\nsummary (failed requests over all restarts):');
for (const s of summary) console.log(`  ${s.name.padEnd(20)} ${String(s.failed).padStart(5)} failed of ${s.requests} in ${s.restarts} restarts`);
