// Anchor for restarts.mjs: Node `cluster` worker replacement as `pm2 reload` does it in cluster mode
// (PM2 5.x, lib/God/Reload.js hardReload, lib/God/Methods.js killProcess, constants.js):
//   1. fork a new worker and wait for its 'listening' event (at most listen_timeout, 3 000 ms);
//   2. send the old worker SIGINT (PM2_KILL_SIGNAL's default) and poll every 100 ms
//      (kill_retry_time) until it is gone; SIGKILL after kill_timeout (1 600 ms).
// The worker does what PM2's docs suggest: on SIGINT, server.close(), then exit once it is closed
// (on Node ≥ 19 server.close() also closes idle keep-alive sockets at once).
// One worker (`pm2 start -i 1`): one serving process, as in the other modes. The primary keeps
// Node's default scheduling on Linux (SCHED_RR, as PM2 does): it accepts every connection itself and
// hands it to a worker over IPC, so fresh connections are not refused during a reload; requests on
// keep-alive sockets that the old worker closes are what can fail.
// SIGHUP: reload; SIGTERM/SIGINT: stop the worker the same way, then exit. Routes: any path -> 200
// "pid N" with x-pid.
import cluster from 'node:cluster';
import { createServer } from 'node:http';

const LISTEN_TIMEOUT_MS = 3_000;
const KILL_TIMEOUT_MS = 1_600;
const KILL_RETRY_MS = 100;

if (cluster.isPrimary) {
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const fork = () =>
    new Promise((resolve) => {
      const worker = cluster.fork();
      const timer = setTimeout(() => resolve({ worker, listening: false }), LISTEN_TIMEOUT_MS);
      worker.once('listening', (address) => {
        clearTimeout(timer);
        resolve({ worker, listening: true, port: address.port });
      });
    });
  /** PM2's killProcess + processIsDead: SIGINT, poll, SIGKILL after the kill timeout. */
  const stopWorker = (worker) =>
    new Promise((resolve) => {
      const pid = worker.process.pid;
      const started = Date.now();
      let killed = false;
      try {
        process.kill(pid, 'SIGINT');
      } catch {}
      const poll = setInterval(() => {
        if (!alive(pid) || worker.process.exitCode !== null || worker.process.signalCode !== null) {
          clearInterval(poll);
          resolve({ pid, ms: Date.now() - started, killed });
        } else if (!killed && Date.now() - started >= KILL_TIMEOUT_MS) {
          killed = true;
          try {
            process.kill(pid, 'SIGKILL');
          } catch {}
        }
      }, KILL_RETRY_MS);
    });

  let current = await fork();
  console.log(`cluster primary pid ${process.pid}: worker pid ${current.worker.process.pid} listening on http://127.0.0.1:${current.port}`);
  let busy = Promise.resolve();
  process.on('SIGHUP', () => {
    busy = busy.then(async () => {
      const old = current;
      current = await fork();
      const stopped = await stopWorker(old.worker);
      console.log(
        `cluster reload: worker pid ${current.worker.process.pid} ${current.listening ? 'listening' : `not listening after ${LISTEN_TIMEOUT_MS} ms`}; ` +
          `worker pid ${stopped.pid} exited ${stopped.ms} ms after SIGINT${stopped.killed ? ' (SIGKILL)' : ''}`,
      );
    });
  });
  const stop = () => {
    busy = busy.then(async () => {
      await stopWorker(current.worker);
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Whatever happens to the primary, no worker outlives it.
  process.on('exit', () => {
    for (const worker of Object.values(cluster.workers ?? {})) {
      try {
        process.kill(worker.process.pid, 'SIGKILL');
      } catch {}
    }
  });
} else {
  const server = createServer((_req, res) => {
    const body = `pid ${process.pid}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-pid': String(process.pid) });
    res.end(body);
  });
  process.once('SIGINT', () => {
    server.close(() => process.exit(0));
  });
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
}
