import { createServer as createHttpServer } from 'node:http';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fixturesBeside, killAllChildren, listeningSocket, sleep, startChild, until } from '@quiesce/test-support';
import { acquire } from './acquire.ts';
import { AddressInUseError, ListenerOptionError } from './errors.ts';
import { diagnosePort } from './port-diagnosis.ts';

const fixture = fixturesBeside(import.meta.url);

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) if (server.listening) await new Promise((resolve) => server.close(resolve));
  await killAllChildren();
});
afterAll(() => killAllChildren());

/** A fresh server tracked for cleanup; acquire() never sees real LISTEN_* variables (env: {}). */
function server(): Server {
  const s = createServer((socket) => socket.end());
  servers.push(s);
  return s;
}
const quiet = { env: {}, warn: false as const };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('acquire: binding', () => {
  it('binds host:port when nothing is inherited, and says how to reach it', async () => {
    const listener = await acquire(server(), { port: 0, host: '127.0.0.1', ...quiet });
    expect(listener).toMatchObject({ source: 'bound', fd: undefined, name: undefined, address: '127.0.0.1', family: 'IPv4' });
    expect(listener.port).toBeGreaterThan(0);
    expect(listener.url).toBe(`http://127.0.0.1:${listener.port}`);
  });

  it('binds IPv6 loopback and prints it in brackets', async () => {
    const listener = await acquire(server(), { port: 0, host: '::1', ...quiet });
    expect(listener.url).toBe(`http://[::1]:${listener.port}`);
  });

  it('works with a node:http server', async () => {
    const http = createHttpServer((_req, res) => res.end('ok'));
    servers.push(http);
    const listener = await acquire(http, { port: 0, host: '127.0.0.1', ...quiet });
    expect(http.listening).toBe(true);
    expect(listener.source).toBe('bound');
  });

  it('needs a port when nothing is inherited', async () => {
    const error = await rejection(acquire(server(), { host: '127.0.0.1', ...quiet }));
    expect(error).toBeInstanceOf(ListenerOptionError);
    expect((error as ListenerOptionError).option).toBe('port');
  });

  it.each([
    [{ port: -1 }, 'port'],
    [{ port: 65_536 }, 'port'],
    [{ port: 80.5 }, 'port'],
    [{ port: '3000' }, 'port'],
    [{ port: 0, host: '' }, 'host'],
    [{ port: 0, host: 'a b' }, 'host'],
    [{ port: 0, name: 'a:b' }, 'name'],
    [{ port: 0, name: '' }, 'name'],
    [{ port: 0, inherit: 'yes' }, 'inherit'],
    [{ port: 0, reusePort: 1 }, 'reusePort'],
    [{ port: 0, backlog: 0 }, 'backlog'],
    [{ port: 0, retryUntilFreeMs: -1 }, 'retryUntilFreeMs'],
    [{ port: 0, retryUntilFreeMs: Number.POSITIVE_INFINITY }, 'retryUntilFreeMs'],
    [{ port: 0, retryIntervalMs: 0 }, 'retryIntervalMs'],
    [{ port: 0, readiness: 'later' }, 'readiness'],
    [{ port: 0, signal: {} }, 'signal'],
    [{ port: 0, warn: 'stderr' }, 'warn'],
    [{ port: 0, env: 'PATH=/bin' }, 'env'],
  ])('refuses %j, naming the option', async (options, option) => {
    const error = await rejection(acquire(server(), { ...quiet, ...options } as never));
    expect(error).toBeInstanceOf(ListenerOptionError);
    expect((error as ListenerOptionError).option).toBe(option);
    expect((error as Error).message).toMatch(new RegExp(`^Invalid ${option}: `));
  });

  it('refuses something that is not a server, and a server that already listens', async () => {
    expect(((await rejection(acquire({} as never, quiet))) as ListenerOptionError).option).toBe('server');
    const s = server();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    expect(((await rejection(acquire(s, { port: 0, ...quiet }))) as ListenerOptionError).option).toBe('server');
  });
});

describe('acquire: EADDRINUSE says who holds the port', () => {
  it('names this process as the holder, in LISTEN', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const error = await rejection(acquire(server(), { port: holder.port, host: '127.0.0.1', ...quiet }));
    expect(error).toBeInstanceOf(AddressInUseError);
    const inUse = error as AddressInUseError;
    expect(inUse.code).toBe('QUIESCE_ADDR_IN_USE');
    expect(inUse.port).toBe(holder.port);
    expect(inUse.host).toBe('127.0.0.1');
    expect(inUse.cause).toMatchObject({ code: 'EADDRINUSE' });
    expect(inUse.message).toMatch(new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${holder.port}: address already in use\\.`));
    expect(inUse.message).toContain(`pid ${process.pid}`);
    expect(inUse.message).toContain('LISTEN');
    expect(inUse.diagnosis.listening).toBe(true);
    expect(inUse.diagnosis.holders.map((h) => h.pid)).toContain(process.pid);
  });

  it('names another process by pid and command line, and the states of the port (LISTEN, ESTABLISHED)', async () => {
    const child = startChild([process.execPath, fixture('adopt-server.mjs')]);
    const line = await child.waitForLine(/^acquired /);
    const port = (JSON.parse(line.slice('acquired '.length)) as { listener: { port: number } }).listener.port;
    const client = connect(port, '127.0.0.1');
    sockets.push(client);
    await new Promise((resolve) => client.once('connect', resolve));
    const error = (await rejection(acquire(server(), { port, host: '127.0.0.1', ...quiet }))) as AddressInUseError;
    expect(error).toBeInstanceOf(AddressInUseError);
    expect(error.message).toContain(`pid ${child.pid} (`);
    expect(error.message).toContain('adopt-server.mjs');
    expect(error.diagnosis.holders[0]).toMatchObject({ pid: child.pid, command: expect.stringContaining('adopt-server.mjs') });
    await until(async () => ((await diagnosePort(port)).states.ESTABLISHED ?? 0) >= 1, 5_000, 'the accepted connection');
    const diagnosis = await diagnosePort(port);
    expect(diagnosis.states).toMatchObject({ LISTEN: 1, ESTABLISHED: 1 });
    expect(diagnosis.advice.join('\n')).toContain(`kill ${child.pid}`);
  });

  it('explains a port kept only by TIME_WAIT sockets (an outgoing connection from that port, closed by us first)', async () => {
    // The side that closes first ends in TIME_WAIT. Our client closes first, so its local port
    // (not the server's) is left in TIME_WAIT, owned by no process; binding it then fails.
    const peer = createServer((socket) => socket.on('end', () => socket.end()));
    servers.push(peer);
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const client = connect((peer.address() as { port: number }).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    const port = client.localPort!;
    client.end();
    await new Promise((resolve) => client.once('close', resolve));
    // The kernel may have handed out this port before, to a connection elsewhere that is still in
    // TIME_WAIT: count at least one.
    await until(async () => (await diagnosePort(port)).states.TIME_WAIT! >= 1, 15_000, 'TIME_WAIT');

    const error = (await rejection(acquire(server(), { port, host: '127.0.0.1', ...quiet }))) as AddressInUseError;
    expect(error).toBeInstanceOf(AddressInUseError);
    expect(error.diagnosis).toMatchObject({ listening: false, holders: [] });
    expect(error.diagnosis.sockets.length).toBeGreaterThan(0);
    for (const socket of error.diagnosis.sockets) expect(socket).toMatchObject({ state: 'TIME_WAIT', inode: 0, holders: [] });
    expect(error.message).toMatch(/No process holds it\. Sockets on port \d+: TIME_WAIT \d+\. TIME_WAIT sockets expire within 60 s/);
    expect(error.diagnosis.advice.join('\n')).toMatch(/TIME_WAIT: \d+ connection\(s\) this host closed first/);
  });

  it('retries until the port is free when asked (a restart waiting for the old process)', async () => {
    const holder = await listeningSocket();
    setTimeout(() => holder.server.close(), 400);
    const listener = await acquire(server(), { port: holder.port, host: '127.0.0.1', retryUntilFreeMs: 20_000, retryIntervalMs: 50, ...quiet });
    expect(listener.port).toBe(holder.port);
  });

  it('gives up at the retry deadline, saying how long it waited', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const error = (await rejection(
      acquire(server(), { port: holder.port, host: '127.0.0.1', retryUntilFreeMs: 300, retryIntervalMs: 50, ...quiet }),
    )) as AddressInUseError;
    expect(error).toBeInstanceOf(AddressInUseError);
    expect(error.waitedMs).toBeGreaterThan(0);
    expect(error.message).toMatch(/still taken after retrying for \d+ ms/);
  });

  it('stops retrying when the signal aborts', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const controller = new AbortController();
    const attempt = acquire(server(), {
      port: holder.port,
      host: '127.0.0.1',
      retryUntilFreeMs: 60_000,
      retryIntervalMs: 50,
      signal: controller.signal,
      ...quiet,
    });
    await sleep(150);
    controller.abort(new Error('stop waiting'));
    expect(((await rejection(attempt)) as Error).message).toBe('stop waiting');
  });
});
