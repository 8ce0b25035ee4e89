import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ProtocolFailure, RefusedFailure } from './errors.ts';
import { openWebSocket } from './raw-websocket.ts';
import { openEventStream } from './sse-reader.ts';

// The raw clients against reference servers in this process (the ws library, a plain node:http
// event stream), so that what the suites read is what was sent: codes, FIN and RST, terminators.

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function wsServer() {
  const server = createServer((_req, res) => res.end('plain\n'));
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(String(data))));
  return { wss, port: await listen(server) };
}

describe('openWebSocket (raw RFC 6455 client)', () => {
  it('echoes text, reads the Close frame code and reason, answers it, and sees the FIN', async () => {
    const { wss, port } = await wsServer();
    const ws = await openWebSocket(port);
    ws.sendText('hello');
    expect(await ws.nextText()).toBe('hello');
    ws.sendText('x'.repeat(70_000)); // a 64-bit length both ways
    expect((await ws.nextText()).length).toBe(70_000);
    for (const client of wss.clients) client.close(1001, 'going away');
    expect(await ws.waitForClose()).toMatchObject({ code: 1001, reason: 'going away' });
    expect(ws.closeSent).toBe(true);
    expect(await ws.waitForEnd()).toBe('fin');
  });

  it('as a silent peer it does not answer the Close frame; a destroyed connection reads as a reset', async () => {
    const { wss, port } = await wsServer();
    const ws = await openWebSocket(port, { answerClose: false });
    for (const client of wss.clients) client.close(1012, 'restart');
    expect(await ws.waitForClose()).toMatchObject({ code: 1012 });
    expect(ws.closeSent).toBe(false);
    expect(await ws.waitForEnd(200)).toBe('timeout'); // ws waits for the answer
    for (const client of wss.clients) {
      // Unread bytes in the server's socket make its close a reset.
      ws.sendText('unread');
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.terminate();
    }
    expect(await ws.waitForEnd()).toMatch(/^(fin|reset)$/);
  });

  it('rejects a server that does not switch protocols, naming its status line, and a refused connect', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(503, { 'retry-after': '1' });
      res.end();
    });
    const port = await listen(server);
    await expect(openWebSocket(port)).rejects.toThrow(ProtocolFailure);
    await expect(openWebSocket(port)).rejects.toThrow(/503/);
    servers.splice(0);
    server.close();
    await once(server, 'close');
    await expect(openWebSocket(port)).rejects.toBeInstanceOf(RefusedFailure);
  });
});

describe('openEventStream (raw Server-Sent Events reader)', () => {
  it('reads events over chunked encoding and tells a proper end (terminator, then FIN) from a cut', async () => {
    let cut = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'close' });
      res.write('data: tick 1\n\n');
      res.write('event: shutdown\ndata: line one\ndata: line two\n\n');
      if (cut) setTimeout(() => res.socket?.destroy(), 20);
      else res.end();
    });
    const port = await listen(server);
    const stream = await openEventStream(port);
    expect(await stream.waitForEvent((event) => event.event === 'shutdown')).toMatchObject({ data: 'line one\nline two' });
    expect(await stream.waitForEnd()).toBe('fin');
    expect(stream.complete).toBe(true);
    expect(stream.events.map((event) => event.event)).toEqual(['message', 'shutdown']);

    cut = true;
    const cutStream = await openEventStream(port);
    expect(await cutStream.waitForEnd()).toMatch(/^(fin|reset)$/);
    expect(cutStream.complete).toBe(false);
  });
});
