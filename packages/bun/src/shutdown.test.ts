import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  AmbiguousFailure,
  killAllServers,
  openConnection,
  RefusedFailure,
  type RawResponse,
  type ServerHandle,
  startServer,
} from '../../conformance/src/harness/index.ts';

// Graceful shutdown as clients see it, over real sockets, against src/fixtures/server.ts running
// in a real Bun process with createLifecycle from `quiesce`.

const fixture = fileURLToPath(new URL('./fixtures/server.ts', import.meta.url));
let server: ServerHandle | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.stop();
  server = undefined;
});
afterAll(() => killAllServers());

async function start(env: Record<string, string> = {}): Promise<ServerHandle> {
  server = await startServer({ runtime: 'bun', script: fixture, env });
  return server;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One request on a fresh connection, which is then closed. */
async function get(port: number, path: string): Promise<RawResponse> {
  const connection = await openConnection(port);
  try {
    return await connection.request({ path });
  } finally {
    connection.destroy();
  }
}

/** Polls `probe` until it returns `true`; at most `ms`. */
async function eventually(probe: () => Promise<boolean>, ms = 5_000): Promise<boolean> {
  const limit = Date.now() + ms;
  while (Date.now() < limit) {
    if (await probe()) return true;
    await delay(20);
  }
  return false;
}

/** Opens new connections until one is refused (the listener closed); at most `ms`. */
async function untilRefused(port: number, ms = 5_000): Promise<boolean> {
  const limit = Date.now() + ms;
  while (Date.now() < limit) {
    try {
      const probe = await openConnection(port);
      probe.destroy();
    } catch (error) {
      if (error instanceof RefusedFailure) return true;
      throw error;
    }
    await delay(20);
  }
  return false;
}

describe('@quiesce/bun graceful shutdown (real Bun process)', () => {
  it('in-flight request completes with Connection: close after SIGTERM, and the process exits 0 right after', async () => {
    const s = await start();
    const connection = await openConnection(s.port);
    const response = connection.request({ path: '/slow?ms=1500' });
    await s.waitForLine(/started \/slow/);
    s.kill('SIGTERM');
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.body).toBe('slept 1500ms\n');
    expect(answered.connectionClose).toBe(true);
    expect(await connection.waitForClose()).toBe('fin');
    const exit = await s.exited;
    expect(exit.code).toBe(0);
    expect(exit.afterMs).toBeLessThan(5_000);
    expect(s.lines.join('\n')).toMatch(/quiesce: shutdown clean .*exit 0/);
  });

  it('a reused keep-alive socket during the lame duck gets 200 with Connection: close, then FIN', async () => {
    const s = await start({ QUIESCE_LAME_DUCK_MS: '3000' });
    const connection = await openConnection(s.port);
    const before = await connection.request({ path: '/' });
    expect(before.keepAlive).toBe(true);
    s.kill('SIGTERM');
    // Readiness flips at the signal; wait for it on another connection, then reuse the first one.
    expect(await eventually(async () => (await get(s.port, '/readyz')).status === 503)).toBe(true);
    const during = await connection.request({ path: '/' });
    expect(during.status).toBe(200);
    expect(during.connectionClose).toBe(true);
    expect(await connection.waitForClose()).toBe('fin');
  });

  it('/readyz answers 503 during the lame duck while new connections are still accepted; refused after', async () => {
    const s = await start({ QUIESCE_LAME_DUCK_MS: '1000' });
    const inFlight = await openConnection(s.port);
    const slow = inFlight.request({ path: '/slow?ms=3000' });
    await s.waitForLine(/started \/slow/);
    expect((await get(s.port, '/readyz')).status).toBe(200);
    s.kill('SIGTERM');
    expect(await eventually(async () => (await get(s.port, '/readyz')).status === 503)).toBe(true);
    const fresh = await get(s.port, '/');
    expect(fresh.status).toBe(200);
    expect(fresh.connectionClose).toBe(true);
    expect(await untilRefused(s.port)).toBe(true);
    expect(s.exitStatus).toBeUndefined(); // refused while the in-flight request still drains
    expect((await slow).connectionClose).toBe(true);
    expect((await s.exited).code).toBe(0);
  });

  it('an idle keep-alive socket is closed with FIN, not RST, and the process exits 0', async () => {
    const s = await start();
    const idle = await openConnection(s.port);
    await idle.request({ path: '/' });
    s.kill('SIGTERM');
    expect(await idle.waitForClose()).toBe('fin');
    expect(idle.resetReceived).toBe(false);
    expect((await s.exited).code).toBe(0);
  });

  it('a request whose head was still arriving when the listener closed is answered, with Connection: close', async () => {
    const s = await start();
    const keepAlive = await openConnection(s.port);
    const slow = keepAlive.request({ path: '/slow?ms=2000' }); // keeps the process draining
    await s.waitForLine(/started \/slow/);
    const partial = await openConnection(s.port);
    partial.send('GET / HTTP/1.1\r\nHost: test\r\n');
    s.kill('SIGTERM');
    expect(await untilRefused(s.port)).toBe(true);
    partial.send('\r\n');
    const answered = await partial.readResponse();
    expect(answered.status).toBe(200);
    expect(answered.connectionClose).toBe(true);
    await slow;
    expect((await s.exited).code).toBe(0);
  });

  it('a streaming response in flight at SIGTERM is delivered to its last chunk before the process exits', async () => {
    const s = await start();
    const connection = await openConnection(s.port);
    const response = connection.request({ path: '/stream?chunks=6&ms=200' });
    await s.waitForLine(/started \/stream/);
    s.kill('SIGTERM');
    const streamed = await response;
    expect(streamed.chunked).toBe(true);
    expect(streamed.body).toBe('chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\nchunk 6\n');
    expect((await s.exited).code).toBe(0);
  });

  it('a large body Bun is still writing at SIGTERM arrives whole: the drain waits for server.pendingRequests', async () => {
    const s = await start();
    const bytes = 32 * 1024 * 1024;
    // A reader that pauses, so Bun is still writing when the signal comes.
    const socket = connect(s.port, '127.0.0.1');
    sockets.push(socket);
    let received = 0;
    const ended = new Promise<string>((resolve) => {
      socket.on('end', () => resolve('fin'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.write(`GET /big?bytes=${bytes} HTTP/1.1\r\nHost: test\r\n\r\n`);
    socket.pause();
    await s.waitForLine(/started \/big/);
    s.kill('SIGTERM');
    await delay(800); // past the 250 ms hold: without the pendingRequests wait the process would be gone
    socket.resume();
    expect(await ended).toBe('fin');
    expect(received).toBeGreaterThan(bytes);
    expect((await s.exited).code).toBe(0);
  });

  it('routes handlers are wrapped too: a routed response during the lame duck carries Connection: close', async () => {
    const s = await start({ QUIESCE_LAME_DUCK_MS: '3000' });
    expect((await get(s.port, '/routed')).connectionClose).toBe(false);
    s.kill('SIGTERM');
    expect(await eventually(async () => (await get(s.port, '/readyz')).status === 503)).toBe(true);
    const routed = await get(s.port, '/routed');
    expect(routed.body).toBe('routed\n');
    expect(routed.connectionClose).toBe(true);
  });

  it('a WebSocket is tracked as an upgraded connection: onUpgraded closes it with 1001, then the process exits 0', async () => {
    const s = await start();
    const socket = connect(s.port, '127.0.0.1');
    sockets.push(socket);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
    socket.write('GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    expect(await eventually(async () => received.includes('\r\n\r\n'))).toBe(true);
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    const afterHandshake = received.indexOf('\r\n\r\n') + 4;
    s.kill('SIGTERM');
    // A close frame (opcode 8) whose payload starts with the status code 1001 (0x03e9).
    expect(await eventually(async () => received.length >= afterHandshake + 4)).toBe(true);
    const frame = received.subarray(afterHandshake);
    expect(frame[0]).toBe(0x88);
    expect(frame.readUInt16BE(2)).toBe(1001);
    socket.end();
    expect((await s.exited).code).toBe(0);
    expect(s.lines.join('\n')).toMatch(/quiesce: shutdown clean .*\(0\/1 upgraded\)/);
  });

  it('an error response during the lame duck (the page from the error option) carries Connection: close too', async () => {
    const s = await start({ QUIESCE_LAME_DUCK_MS: '3000' });
    s.kill('SIGTERM');
    expect(await eventually(async () => (await get(s.port, '/readyz')).status === 503)).toBe(true);
    const failed = await get(s.port, '/throw');
    expect(failed.status).toBe(500);
    expect(failed.body).toBe('fixture error page: fixture: /throw\n');
    expect(failed.connectionClose).toBe(true);
  });

  it('a request whose error page fails too does not hold the drain: clean exit 0 long before the deadline', async () => {
    const s = await start({ QUIESCE_DEADLINE_MS: '8000' });
    expect((await get(s.port, '/throw-twice')).status).toBe(500);
    s.kill('SIGTERM');
    const exit = await s.exited;
    expect(exit.code).toBe(0);
    expect(exit.afterMs).toBeLessThan(5_000);
    expect(s.lines.join('\n')).toMatch(/quiesce: shutdown clean /);
  });

  it('a request longer than the deadline is cut at the deadline, and the exit code is non-zero', async () => {
    const s = await start({ QUIESCE_DEADLINE_MS: '1000' });
    const connection = await openConnection(s.port);
    const response = connection.request({ path: '/slow?ms=20000' });
    await s.waitForLine(/started \/slow/);
    s.kill('SIGTERM');
    await expect(response).rejects.toBeInstanceOf(AmbiguousFailure);
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    expect(exit.afterMs).toBeLessThan(5_000);
    // The lifecycle's own report, not a crash, explains the code.
    expect(s.lines.join('\n')).toMatch(/quiesce: shutdown forced .*1 cut.*exit 1/);
  });

  it('a second SIGTERM forces an immediate stop: exit 143', async () => {
    const s = await start();
    const connection = await openConnection(s.port);
    const response = connection.request({ path: '/slow?ms=20000' });
    await s.waitForLine(/started \/slow/);
    s.kill('SIGTERM');
    expect(await untilRefused(s.port)).toBe(true);
    s.kill('SIGTERM');
    const exit = await s.exited;
    expect(exit.code).toBe(143);
    expect(exit.afterMs).toBeLessThan(5_000);
    await expect(response).rejects.toBeInstanceOf(AmbiguousFailure);
  });
});

describe('Bun limits the adapter cannot lift', () => {
  it('pins Bun 1.4 on Linux: a preconnect (connected, nothing sent) is dropped without FIN or RST when the listener closes, and a request sent on it later is reset', async () => {
    const s = await start();
    const keepAlive = await openConnection(s.port);
    const slow = keepAlive.request({ path: '/slow?ms=2500' }); // keeps the process draining
    await s.waitForLine(/started \/slow/);
    const preconnect = await openConnection(s.port);
    s.kill('SIGTERM');
    expect(await untilRefused(s.port)).toBe(true);
    expect(await preconnect.waitForClose(300)).toBe('timeout'); // nothing tells the client
    await expect(preconnect.request({ path: '/' })).rejects.toMatchObject({ kind: 'reset' });
    await slow;
  });

  it.skip('closes an idle preconnect with FIN, or answers a request sent on it after the listener closed — impossible on Bun 1.4 on Linux: Bun.serve defers accept until the first bytes arrive (TCP_DEFER_ACCEPT, oven-sh/bun#28617), so a silent connection never reaches Bun and closing the listener drops it without a word', () => {});
});
