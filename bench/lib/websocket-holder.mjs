// Child process of part 7: opens `count` WebSockets to `port` by hand (RFC 6455 over node:net, no
// client library), `batch` at a time, each checked with one echoed text frame; says `{ ready }` over
// IPC, then answers every Close frame the server sends with its own, as browsers do. `{ report:
// timeoutMs }` asks how each ended: `{ codes: { "1001": n, … }, fin, reset, open }` (open: still
// open after `timeoutMs`), answered before it exits. Argv: <port> <count>.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const [port, count] = process.argv.slice(2).map(Number);
if (!Number.isInteger(port) || !Number.isInteger(count) || count < 1) {
  console.error(`usage: websocket-holder.mjs <port> <count>, got ${JSON.stringify(process.argv.slice(2))}`);
  process.exit(2);
}

/** A masked client frame. */
function frame(opcode, payload) {
  const mask = randomBytes(4);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i] ^ mask[i % 4];
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

/** One WebSocket: resolves once its echo came back; `state` says what happened since. */
function open() {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const state = { code: undefined, ended: undefined, socket };
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let echoed = false;
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buffer.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) return reject(new Error(buffer.subarray(0, end).toString()));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        socket.write(frame(0x1, Buffer.from('hi')));
      }
      while (buffer.length >= 2) {
        const length = buffer[1] & 0x7f; // the server sends short frames only here
        if (buffer.length < 2 + length) return;
        const opcode = buffer[0] & 0x0f;
        const payload = buffer.subarray(2, 2 + length);
        buffer = buffer.subarray(2 + length);
        if (opcode === 0x1 && !echoed) {
          echoed = true;
          resolve(state);
        } else if (opcode === 0x8 && state.code === undefined) {
          state.code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          if (!socket.destroyed) socket.write(frame(0x8, payload.subarray(0, 2)));
        }
      }
    });
    socket.on('end', () => (state.ended ??= 'fin'));
    socket.on('error', (error) => {
      state.ended ??= error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : 'error';
      if (!upgraded) reject(error);
    });
  });
}

const sockets = [];
for (let i = 0; i < count; i += 100) sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, open))));
process.send({ ready: sockets.length });

process.on('message', async (message) => {
  if (typeof message?.report !== 'number') return;
  const until = performance.now() + message.report;
  while (sockets.some((s) => s.ended === undefined) && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  const codes = {};
  for (const s of sockets) codes[s.code ?? 'none'] = (codes[s.code ?? 'none'] ?? 0) + 1;
  const fin = sockets.filter((s) => s.ended === 'fin').length;
  const reset = sockets.filter((s) => s.ended === 'reset').length;
  const open = sockets.filter((s) => s.ended === undefined).length;
  for (const s of sockets) s.socket.destroy();
  process.send({ codes, fin, reset, open }, () => process.exit(0));
});
