// The benchmark's server: one generation, on Node, Bun or Deno, with its socket from
// @quiesce/listener (adopted from quiesce run / a hot restart, or bound). Routes: any path ->
// 200 "pid N" with x-pid.
//
// Drain (SIGTERM, and the old process of a hot restart): stop accepting without touching open
// connections, `Connection: close` on every response from then on, then
//   DRAIN=soft (default): close sockets once idle for 250 ms (no request in flight, no new bytes);
//   DRAIN=hard:           close idle sockets at once (what http.Server#close does on Node ≥ 19).
// SIGUSR2 (Node): hotRestart() with that drain.
import { createServer as createHttpServer } from 'node:http';
import { Server as NetServer, createServer as createNetServer } from 'node:net';
import { acquire, hotRestart } from '@quiesce/listener';

const runtime = process.versions.bun ? 'bun' : process.versions.deno ? 'deno' : 'node';
const idleGraceMs = process.env.DRAIN === 'hard' ? 0 : 250;
let closing = false;
const sockets = new Map();
const http = createHttpServer((req, res) => {
  const state = sockets.get(req.socket);
  if (state) state.busy++;
  let done = false;
  const finished = () => {
    if (done || !state) return;
    done = true;
    state.busy--;
    state.idleSince = Date.now();
  };
  res.once('finish', finished);
  res.once('close', finished);
  const body = `pid ${process.pid}\n`;
  const headers = { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-pid': String(process.pid) };
  if (closing) headers.connection = 'close';
  res.writeHead(200, headers);
  res.end(body);
});
const track = (socket) => {
  sockets.set(socket, { busy: 0, idleSince: Date.now(), bytes: 0 });
  socket.once('close', () => sockets.delete(socket));
};
// Bun's node:http cannot listen on an inherited fd; its node:net can.
const listening = runtime === 'bun' ? createNetServer() : http;
if (runtime === 'bun') {
  listening.on('connection', (socket) => {
    track(socket);
    http.emit('connection', socket);
  });
} else http.on('connection', track);

let drained;
function drain() {
  drained ??= new Promise((resolve) => {
    closing = true;
    // The listener only (node:http's close() would also drop idle sockets at once on Node and Deno).
    NetServer.prototype.close.call(listening);
    const check = () => {
      const now = Date.now();
      for (const [socket, state] of sockets) {
        if (state.busy > 0) continue;
        // Bytes of a request not parsed yet: not idle (the soft drain only; hard ignores them, as
        // http.Server#closeIdleConnections does).
        if (idleGraceMs > 0 && socket.bytesRead !== state.bytes) {
          state.bytes = socket.bytesRead;
          state.idleSince = now;
        }
        if (now - state.idleSince >= idleGraceMs) socket.end();
      }
      if (sockets.size === 0) {
        clearInterval(timer);
        resolve({ exitCode: 0 });
      }
    };
    const timer = setInterval(check, 10);
    check();
  });
  return drained;
}

process.on('SIGTERM', async () => {
  await drain();
  process.exit(0);
});
process.on('SIGUSR2', () => {
  // hotRestart returns once this process has drained; exiting is the app's decision.
  hotRestart({ servers: listening, stop: drain }).then(
    (result) => {
      if (result.outcome === 'restarted') process.exit(result.exitCode ?? 0);
    },
    (error) => console.error(`app: ${error.message}`),
  );
});

const listener = await acquire(listening, { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`app ${runtime} pid ${process.pid} listening on ${listener.url} (${listener.source})`);
