import { once } from 'node:events';
import { type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { NodeAdapterOptionError } from './errors.ts';
import { createNodeAdapter } from './node-adapter.ts';

// WebSockets of the `ws` package through the Node adapter, over real sockets: the `ws` client on
// one side (it answers a Close frame, as browsers do), a raw socket where a peer must stay silent.

const servers: Server[] = [];
const sockets: Socket[] = [];
const clients: WebSocket[] = [];
const noDeadline = new AbortController().signal;

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
});

/** An echo WebSocket server on `/ws` and a plain route, wrapped by the adapter with `options`. */
async function echoServer(options: Parameters<typeof createNodeAdapter>[1] = {}, handler?: (res: ServerResponse) => void) {
  const server = createServer((_req, res) => (handler ? handler(res) : res.end('ok')));
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  const adapter = createNodeAdapter(server, { webSockets: wss, ...options });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, wss, adapter, port: (server.address() as AddressInfo).port };
}

/** A `ws` client that resolves with the close code it received (it answers the Close frame). */
async function wsClient(port: number) {
  const client = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  clients.push(client);
  await once(client, 'open');
  const closed = once(client, 'close').then(([code]) => code as number);
  return { client, closed };
}

/** A raw upgrade that never answers anything: how the server ends it is read off the socket. */
async function silentPeer(port: number) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  await once(socket, 'connect');
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  });
  const ended = new Promise<'fin' | 'reset'>((resolve) => {
    socket.once('end', () => resolve('fin'));
    socket.once('error', () => resolve('reset'));
  });
  while (!received.includes('\r\n\r\n')) await once(socket, 'data');
  return { ended, received: () => received };
}

describe('createNodeAdapter: WebSockets of ws', () => {
  it('keep working during the lame duck; once the listener closes each gets 1001 and the drain ends when they have closed', async () => {
    const { adapter, port } = await echoServer();
    const { client, closed } = await wsClient(port);
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    client.send('still here');
    const [echo] = await once(client, 'message');
    expect(String(echo)).toBe('still here'); // not closed before the drain starts
    const report = await adapter.drain({ signal: AbortSignal.timeout(5_000) });
    expect(await closed).toBe(1001);
    expect(report).toMatchObject({ outcome: 'drained', upgradedAtStart: 1, upgradedClosed: 1, upgradedForceClosed: 0 });
  });

  it('get 1012 (Service Restart) when the shutdown is a restart', async () => {
    const { adapter, port } = await echoServer();
    const { closed } = await wsClient(port);
    adapter.beginShutdown({ reason: 'restart' });
    await adapter.stopAccepting({ signal: noDeadline });
    await adapter.drain({ signal: AbortSignal.timeout(5_000) });
    expect(await closed).toBe(1012);
  });

  it('a peer that never answers the Close frame is ended with FIN after webSocketCloseTimeoutMs, long before the deadline', async () => {
    const { adapter, port } = await echoServer({ webSocketCloseTimeoutMs: 100 });
    const peer = await silentPeer(port);
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const report = await adapter.drain({ signal: AbortSignal.timeout(10_000) });
    expect(report).toMatchObject({ outcome: 'drained', upgradedClosed: 1, upgradedForceClosed: 0 });
    expect(await peer.ended).toBe('fin');
    const frames = peer.received().subarray(peer.received().indexOf('\r\n\r\n') + 4);
    expect(frames[0]).toBe(0x88); // FIN + Close
    expect(frames.readUInt16BE(2)).toBe(1001);
  });

  it('what is still open at the deadline is destroyed and counted as cut', async () => {
    const { adapter, port } = await echoServer({ webSocketCloseTimeoutMs: 60_000 });
    await silentPeer(port);
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const report = await adapter.drain({ signal: AbortSignal.timeout(200) });
    expect(report).toMatchObject({ outcome: 'forced', upgradedClosed: 0, upgradedForceClosed: 1 });
  });

  it('an upgrade request on a keep-alive connection during the drain gets 503 with Retry-After and Connection: close, then FIN', async () => {
    const { adapter, port } = await echoServer();
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: test\r\n\r\n');
    await once(socket, 'data'); // a keep-alive connection, idle
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const drained = adapter.drain({ signal: AbortSignal.timeout(5_000) });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    const ended = new Promise((resolve) => socket.once('end', () => resolve('fin')));
    socket.write(
      'GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(await ended).toBe('fin');
    expect(text).toMatch(/^HTTP\/1\.1 503 /);
    expect(text).toMatch(/\r\nRetry-After: 1\r\n/);
    expect(text).toMatch(/\r\nConnection: close\r\n/);
    expect(await drained).toMatchObject({ outcome: 'drained', upgradedAtStart: 0 });
  });

  it('counts a streaming response under way when the drain starts; cut at the deadline, or ended by the application', async () => {
    let stream: ServerResponse | undefined;
    const { adapter, port } = await echoServer({}, (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: tick 1\n\n');
      stream = res;
    });
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    await once(socket, 'connect');
    socket.write('GET /events HTTP/1.1\r\nHost: test\r\n\r\n');
    await once(socket, 'data');
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const deadline = new AbortController();
    const drained = adapter.drain({ signal: deadline.signal });
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', streamsAtStart: 1, streamsCut: 1, requestsCut: 1 });
    expect(stream).toBeDefined();

    const second = await echoServer({}, (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: tick 1\n\n');
      stream = res;
    });
    const reader = connect(second.port, '127.0.0.1');
    sockets.push(reader);
    await once(reader, 'connect');
    reader.write('GET /events HTTP/1.1\r\nHost: test\r\n\r\n');
    await once(reader, 'data');
    second.adapter.beginShutdown();
    await second.adapter.stopAccepting({ signal: noDeadline });
    const ending = second.adapter.drain({ signal: AbortSignal.timeout(5_000) });
    stream!.end('event: shutdown\ndata: bye\n\n');
    expect(await ending).toMatchObject({ outcome: 'drained', streamsAtStart: 1, streamsCut: 0 });
  });

  it('follows WebSockets opened before the adapter, and stops following on dispose', async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const early = new WebSocket(`ws://127.0.0.1:${port}/`);
    clients.push(early);
    await once(early, 'open');
    while (wss.clients.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const adapter = createNodeAdapter(server, { webSockets: [wss] });
    expect(wss.listenerCount('connection')).toBe(1);
    const closed = once(early, 'close').then(([code]) => code);
    // The early socket is not tracked by the drain (accepted before the adapter), but it is told.
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    await adapter.drain({ signal: AbortSignal.timeout(5_000) });
    expect(await closed).toBe(1001);
    adapter.dispose();
    expect(wss.listenerCount('connection')).toBe(0);
  });

  it('refuses webSockets that are not ws servers, naming the option', () => {
    const server = createServer();
    for (const value of [{}, 'wss', [null], [{ on: () => {} }]]) {
      expect(() => createNodeAdapter(server, { webSockets: value as never })).toThrow(NodeAdapterOptionError);
      expect(() => createNodeAdapter(server, { webSockets: value as never })).toThrow(/webSockets/);
    }
    expect(() => createNodeAdapter(server, { webSocketCloseTimeoutMs: -1 })).toThrow(/webSocketCloseTimeoutMs/);
  });
});
