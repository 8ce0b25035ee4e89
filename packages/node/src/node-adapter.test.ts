import { EventEmitter, once } from 'node:events';
import { type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, Socket, connect, createServer as createNetServer } from 'node:net';
import { ManualClock } from '@quiesce/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeAdapterOptionError } from './errors.ts';
import { createNodeAdapter } from './node-adapter.ts';

const servers: Server[] = [];
/** A deadline that never comes, for calls whose deadline the test does not exercise. */
const noDeadline = new AbortController().signal;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A raw HTTP/1.1 client connection: what the server really sends, FIN and RST included. */
async function rawConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  await once(socket, 'connect');
  let buffer = '';
  let ended: 'fin' | 'reset' | undefined;
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    wake();
  });
  socket.on('end', () => {
    ended ??= 'fin';
    wake();
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    ended ??= error.code === 'ECONNRESET' ? 'reset' : 'fin';
    wake();
  });
  const until = async (test: () => boolean, ms = 5_000) => {
    const limit = Date.now() + ms;
    while (!test()) {
      if (Date.now() > limit) throw new Error(`timed out; received so far: ${JSON.stringify(buffer)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  return {
    socket,
    async get(path: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
      buffer = '';
      socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
      await until(() => {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return false;
        const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
        return buffer.length >= end + 4 + length;
      });
      const [head = '', body = ''] = buffer.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      return { status: Number(statusLine.split(' ')[1]), headers, body };
    },
    async closed(): Promise<'fin' | 'reset'> {
      await until(() => ended !== undefined);
      return ended!;
    },
    get ended() {
      return ended;
    },
  };
}

describe('createNodeAdapter', () => {
  it('adds Connection: close to every response from beginShutdown on, and keep-alive before', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    expect((await client.get('/')).headers['connection']).toBe('keep-alive');
    adapter.beginShutdown();
    const response = await client.get('/');
    expect(response.status).toBe(200);
    expect(response.headers['connection']).toBe('close');
    expect(await client.closed()).toBe('fin');
  });

  it('overrides a Connection: keep-alive header the handler sets itself while closing', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { Connection: 'keep-alive', 'content-length': '2' });
      res.end('ok');
    });
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    adapter.beginShutdown();
    expect((await client.get('/')).headers['connection']).toBe('close');
    expect(await client.closed()).toBe('fin');
  });

  /** Starts a request, begins shutdown while its handler waits, then lets `respond` answer it. */
  async function respondAfterSignal(respond: (res: ServerResponse) => void) {
    let release: () => void = () => {};
    let started: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      started = resolve;
    });
    const server = createServer((_req, res) => {
      release = () => respond(res);
      started();
    });
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    const response = client.get('/slow');
    await arrived;
    adapter.beginShutdown();
    release();
    return { client, response: await response };
  }

  it('decides at header time: a response that started before the signal but is sent after carries Connection: close', async () => {
    const { response } = await respondAfterSignal((res) => res.end('late'));
    expect(response.headers['connection']).toBe('close');
  });

  it('a response in flight at the signal gets Connection: close even when its handler asks for keep-alive', async () => {
    const { client, response } = await respondAfterSignal((res) => {
      res.writeHead(200, { Connection: 'keep-alive', 'content-length': '4' });
      res.end('late');
    });
    expect(response.headers['connection']).toBe('close');
    expect(await client.closed()).toBe('fin');
  });

  it('a pipelined response queued behind one in flight at the signal gets Connection: close too', async () => {
    const pending: Array<(body: string) => void> = [];
    const server = createServer((req, res) => {
      if (req.url === '/first') {
        // Headers out before the signal (keep-alive), body after it.
        res.writeHead(200, { 'content-length': '5' });
        pending.push((body) => res.end(body));
      } else pending.push((body) => res.end(body));
    });
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    let received = '';
    client.socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    client.socket.write('GET /first HTTP/1.1\r\nHost: test\r\n\r\nGET /second HTTP/1.1\r\nHost: test\r\n\r\n');
    const deadline = Date.now() + 5_000;
    while (pending.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(adapter.stats().inFlight).toBe(2);
    adapter.beginShutdown();
    pending[0]!('first');
    pending[1]!('second');
    expect(await client.closed()).toBe('fin');
    const [first = '', second = ''] = received.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/connection: keep-alive/i);
    expect(second).toMatch(/connection: close/i);
    expect(second).toMatch(/second$/);
    expect(adapter.stats().inFlight).toBe(0);
  });

  it('holds the end of a response in flight at the signal while the listener closes, when clients are reconnecting', async () => {
    let release: () => void = () => {};
    const slowStarted = new Promise<void>((resolve) => {
      const server = createServer((req, res) => {
        if (req.url !== '/slow') return void res.end('ok');
        release = () => res.end('slow');
        resolve();
      });
      servers.push(server);
    });
    const server = servers.pop()!;
    const adapter = createNodeAdapter(server, { idleGraceMs: 100, holdMaxMs: 5_000 });
    const port = await listen(server);
    const slow = await rawConnection(port);
    const other = await rawConnection(port);
    const slowResponse = slow.get('/slow');
    await slowStarted;
    adapter.beginShutdown();
    expect((await other.get('/')).headers['connection']).toBe('close'); // a client is now reconnecting
    const order: string[] = [];
    const stopped = adapter.stopAccepting({ signal: noDeadline }).then(() => order.push('listener closed'));
    release(); // while the gate holds: the end waits for the listener to close
    await slowResponse.then(() => order.push('slow response'));
    await stopped;
    expect(order).toEqual(['listener closed', 'slow response']);
  });

  it("the response hold waits for the adapter's idleGraceMs of quiet, on the adapter's clock", async () => {
    const clock = new ManualClock();
    const server = createServer((_req, res) => res.end('ok'));
    const adapter = createNodeAdapter(server, { idleGraceMs: 400, holdMaxMs: 60_000, clock });
    const port = await listen(server);
    const client = await rawConnection(port);
    adapter.beginShutdown();
    expect((await client.get('/')).headers['connection']).toBe('close'); // a client is now reconnecting
    const stopping = adapter.stopAccepting({ signal: noDeadline });
    await clock.advance(399);
    expect(server.listening).toBe(true);
    await clock.advance(2); // 400 ms of quiet, confirmed 1 ms on
    await stopping;
    expect(server.listening).toBe(false);
  });

  it('stops holding when the deadline aborts: the listener closes at once, long before holdMaxMs', async () => {
    const clock = new ManualClock();
    const server = createServer((_req, res) => res.end('ok'));
    const adapter = createNodeAdapter(server, { idleGraceMs: 600_000, holdMaxMs: 600_000, clock });
    const port = await listen(server);
    const client = await rawConnection(port);
    adapter.beginShutdown();
    await client.get('/');
    const deadline = new AbortController();
    const stopping = adapter.stopAccepting({ signal: deadline.signal });
    await clock.advance(1_000);
    expect(server.listening).toBe(true); // holding: the quiet time is far off
    deadline.abort();
    await stopping;
    expect(server.listening).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('ready() resolves once the server listens (at once when it already does)', async () => {
    const server = createServer();
    const adapter = createNodeAdapter(server);
    let ready = false;
    const readiness = adapter.ready().then(() => (ready = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ready).toBe(false);
    await listen(server);
    await readiness;
    await expect(adapter.ready()).resolves.toBeUndefined();
    await expect(createNodeAdapter(server).ready()).resolves.toBeUndefined();
  });

  it('forgets pipelined requests whose connection went away before they were answered', async () => {
    const server = createServer(() => {}); // never answers
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    client.socket.write('GET /a HTTP/1.1\r\nHost: test\r\n\r\nGET /b HTTP/1.1\r\nHost: test\r\n\r\nGET /c HTTP/1.1\r\nHost: test\r\n\r\n');
    const deadline = Date.now() + 5_000;
    while (adapter.stats().inFlight < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(adapter.stats()).toMatchObject({ connections: 1, inFlight: 3 });
    client.socket.destroy();
    while (adapter.stats().connections > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(adapter.stats()).toMatchObject({ connections: 0, inFlight: 0 });
    const report = await adapter.drain({ signal: AbortSignal.timeout(5_000) });
    expect(report.outcome).toBe('drained');
  });

  it('serves with Connection: close at once when its adapter is already shutting down (a server added late)', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    createNodeAdapter(server).beginShutdown();
    const port = await listen(server);
    const client = await rawConnection(port);
    expect((await client.get('/')).headers['connection']).toBe('close');
  });

  it('notices the close of a socket whose emit someone else wrapped first, and leaves that wrapper in place', async () => {
    const seen: string[] = [];
    const server = createServer((_req, res) => res.end('ok'));
    server.on('connection', (socket: Socket) => {
      const emit = socket.emit as (event: string | symbol, ...args: unknown[]) => boolean;
      socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
        if (event === 'close') seen.push('close');
        return emit.call(this, event, ...args);
      } as Socket['emit'];
    });
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    await client.get('/');
    expect(adapter.stats().connections).toBe(1);
    client.socket.destroy();
    const deadline = Date.now() + 5_000;
    while (adapter.stats().connections > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(adapter.stats().connections).toBe(0);
    expect(seen).toEqual(['close']);
  });

  it('two adapters on one server, each with its own tracker, both count every connection and request', async () => {
    let release: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      const server = createServer((_req, res) => {
        release = () => res.end('ok');
        resolve();
      });
      servers.push(server);
    });
    const server = servers.pop()!;
    const first = createNodeAdapter(server);
    const second = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    const response = client.get('/');
    await started;
    expect(first.stats()).toMatchObject({ connections: 1, inFlight: 1 });
    expect(second.stats()).toMatchObject({ connections: 1, inFlight: 1 });
    second.beginShutdown();
    release();
    expect((await response).headers['connection']).toBe('close');
    await client.closed();
    const deadline = Date.now() + 5_000;
    while (first.stats().connections + second.stats().connections > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(first.stats()).toMatchObject({ connections: 0, inFlight: 0 });
    expect(second.stats()).toMatchObject({ connections: 0, inFlight: 0 });
  });

  it('stopAccepting refuses new connections but leaves an idle keep-alive socket open and serving', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    await client.get('/');
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const refused = connect(port, '127.0.0.1');
    sockets.push(refused);
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.ended).toBeUndefined();
    const response = await client.get('/');
    expect(response.status).toBe(200);
    expect(response.headers['connection']).toBe('close');
  });

  it('drains: an idle socket is closed with FIN (not RST) after the idle grace', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const adapter = createNodeAdapter(server, { idleGraceMs: 50 });
    const port = await listen(server);
    const client = await rawConnection(port);
    await client.get('/');
    const preconnect = await rawConnection(port);
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const report = await adapter.drain({ signal: AbortSignal.timeout(10_000) });
    expect(report).toMatchObject({ outcome: 'drained', idleClosed: 1, preconnectsClosed: 1, forceClosed: 0 });
    expect(await client.closed()).toBe('fin');
    expect(await preconnect.closed()).toBe('fin');
  });

  it('ends the drain when it has released the last idle socket, not a loop turn later at its close event', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const adapter = createNodeAdapter(server, { idleGraceMs: 20 });
    let closeEvents = 0;
    server.on('connection', (socket: Socket) => socket.once('close', () => closeEvents++));
    const port = await listen(server);
    const clients = await Promise.all([1, 2, 3].map(() => rawConnection(port)));
    for (const client of clients) await client.get('/');
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const report = await adapter.drain({ signal: AbortSignal.timeout(10_000) });
    // Their fds are closed (FIN sent) by then; Node reports each close on a later loop turn.
    expect(report).toMatchObject({ outcome: 'drained', idleClosed: 3, forceClosed: 0 });
    expect(closeEvents).toBe(0);
    expect(adapter.stats().connections).toBe(0);
    for (const client of clients) expect(await client.closed()).toBe('fin');
    for (let turns = 0; closeEvents < 3 && turns < 500; turns++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closeEvents).toBe(3);
    expect(adapter.stats().connections).toBe(0); // the late close reports are ignored
  });

  it('ends the drain when the last response has gone out whole, not a loop turn or two later at its socket close', async () => {
    let answer: (() => void) | undefined;
    const server = createServer((_req, res) => {
      answer = () => res.end('done');
    });
    const adapter = createNodeAdapter(server, { idleGraceMs: 5_000 });
    let socketClosed = false;
    server.on('connection', (socket: Socket) => socket.once('close', () => (socketClosed = true)));
    const port = await listen(server);
    const client = await rawConnection(port);
    const response = client.get('/slow');
    for (let turns = 0; answer === undefined && turns < 500; turns++) await new Promise((resolve) => setTimeout(resolve, 10));
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const drained = adapter.drain({ signal: AbortSignal.timeout(10_000) });
    answer!();
    const report = await drained;
    // Node ended the socket after the response (Connection: close); its close is reported later.
    expect(report).toMatchObject({ outcome: 'drained', requestsCompleted: 1, idleClosed: 0, forceClosed: 0 });
    expect(socketClosed).toBe(false);
    expect(await response).toMatchObject({ status: 200, body: 'done', headers: { connection: 'close' } });
    expect(await client.closed()).toBe('fin');
  });

  it('tracks upgraded sockets apart: never closed as idle, destroyed at the deadline', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    server.on('upgrade', (_req, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (chunk) => socket.write(chunk));
    });
    const adapter = createNodeAdapter(server, { idleGraceMs: 10 });
    const port = await listen(server);
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    await once(socket, 'connect');
    socket.write('GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    await once(socket, 'data');
    expect(adapter.stats().upgraded).toBe(1);
    expect(adapter.upgraded()).toHaveLength(1);
    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const report = await adapter.drain({ signal: AbortSignal.timeout(300) });
    expect(report).toMatchObject({ outcome: 'forced', upgradedAtStart: 1, upgradedForceClosed: 1 });
  });

  it('leaves upgrade requests alone when the application has no upgrade handler (served as plain requests)', async () => {
    const server = createServer((_req, res) => res.end('plain'));
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const client = await rawConnection(port);
    client.socket.write('GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(adapter.stats().upgraded).toBe(0);
    expect(server.listenerCount('upgrade')).toBe(0);
  });

  it('sets TCP keepalive on accepted sockets when asked', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    const calls: unknown[][] = [];
    createNodeAdapter(server, { tcpKeepAliveMs: 30_000 });
    // Prepended after the adapter, so this spy is in place before the adapter's listener runs.
    server.prependListener('connection', (s: Socket) => {
      const original = s.setKeepAlive.bind(s);
      s.setKeepAlive = (...args: Parameters<Socket['setKeepAlive']>) => {
        calls.push(args);
        return original(...args);
      };
    });
    const port = await listen(server);
    await (await rawConnection(port)).get('/');
    expect(calls).toContainEqual([true, 30_000]);
  });

  it('dispose removes every listener it added and restores emit', () => {
    const server = createServer();
    const before = ['connection', 'request', 'secureConnection'].map((e) => server.listenerCount(e));
    const emit = server.emit;
    const adapter = createNodeAdapter(server);
    adapter.dispose();
    expect(['connection', 'request', 'secureConnection'].map((e) => server.listenerCount(e))).toEqual(before);
    expect(server.emit).toBe(emit);
  });

  it.each([
    ['server', {}, {}],
    ['server', new Socket(), {}],
    ['tcpKeepAliveMs', createServer(), { tcpKeepAliveMs: -5 }],
    ['tracker', createServer(), { tracker: {} }],
    ['idleGraceMs', createServer(), { idleGraceMs: Number.NaN }],
    ['listener', createServer(), { listener: {} }],
    ['listener', createServer(), { listener: new Socket() }],
  ])('rejects a bad %s with an error naming it', (option, server, options) => {
    const attempt = () => createNodeAdapter(server as never, options as never);
    expect(attempt).toThrow(new RegExp(`Invalid ${option}`));
  });

  it('takes a node:http Server that is no net.Server (Bun\'s) when it can close its idle connections itself, and asks for a node:net listener otherwise', () => {
    // Bun's node:http Server has the events and methods, but is no net.Server: only its own close()
    // closes its listener (and idle sockets with it). Stand-ins with the same shape.
    const withoutCloseIdle = Object.assign(new EventEmitter(), { listen() {}, setTimeout() {}, close() {}, listening: false });
    const attempt = () => createNodeAdapter(withoutCloseIdle as never);
    expect(attempt).toThrow(NodeAdapterOptionError);
    expect(attempt).toThrow(/^Invalid listener: undefined\. Expected a node:net Server, because this server is no net\.Server and cannot close its idle connections/);
    expect(() => createNodeAdapter(withoutCloseIdle as never, { listener: createNetServer() }).dispose()).not.toThrow();
    const bunLike = Object.assign(new EventEmitter(), { listen() {}, setTimeout() {}, close() {}, closeIdleConnections() {}, listening: false });
    expect(() => createNodeAdapter(bunLike as never).dispose()).not.toThrow();
    expect(() => createNodeAdapter(bunLike as never, { tcpKeepAliveMs: 1_000 })).toThrow(/^Invalid tcpKeepAliveMs: 1000\. Expected false on Bun's node:http Server/);
  });

  it('with a separate node:net listener: connections handed over are served and tracked, and stopAccepting closes that listener only', async () => {
    const http = createServer((_req, res) => res.end('ok'));
    const listener = createNetServer((socket) => http.emit('connection', socket));
    const adapter = createNodeAdapter(http, { listener, idleGraceMs: 50 });
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const port = (listener.address() as AddressInfo).port;
    try {
      const client = await rawConnection(port);
      expect((await client.get('/')).body).toBe('ok');
      expect(adapter.stats().connections).toBe(1);
      adapter.beginShutdown();
      await adapter.stopAccepting({ signal: noDeadline });
      expect(listener.listening).toBe(false);
      const probe = connect(port, '127.0.0.1');
      sockets.push(probe);
      const [error] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
      expect(error.code).toBe('ECONNREFUSED');
      // The open connection still serves, now with Connection: close.
      const second = await client.get('/');
      expect(second.headers['connection']).toBe('close');
      const report = await adapter.drain({ signal: AbortSignal.timeout(5_000) });
      expect(report.outcome).toBe('drained');
    } finally {
      adapter.dispose();
      if (listener.listening) listener.close();
    }
  });

  it('gives the adapter error a stable code', () => {
    try {
      createNodeAdapter(null as never);
    } catch (error) {
      expect(error).toBeInstanceOf(NodeAdapterOptionError);
      expect((error as NodeAdapterOptionError).code).toBe('QUIESCE_NODE_INVALID_OPTION');
    }
  });
});
