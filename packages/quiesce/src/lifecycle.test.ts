import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { createNodeAdapter } from '@quiesce/node';
import { afterEach, describe, expect, it } from 'vitest';
import { LifecycleOptionError } from './errors.ts';
import { createLifecycle } from './lifecycle.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    if (server.listening) server.close();
  }
});

async function serve(handler: Parameters<typeof createServer>[1] = (_req, res) => res.end('ok')) {
  const server = createServer(handler);
  servers.push(server);
  const adapter = createNodeAdapter(server, { idleGraceMs: 20, preconnectGraceMs: 20 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, adapter, port: (server.address() as AddressInfo).port };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('createLifecycle', () => {
  it('flips readiness at once, keeps accepting during the lame duck, refuses after it', async () => {
    const { adapter, port } = await serve();
    const lines: string[] = [];
    const lifecycle = createLifecycle({ adapter, lameDuckMs: 300, deadlineMs: 5_000, log: (l) => lines.push(l) });
    expect(lifecycle.isReady()).toBe(true);
    const done = lifecycle.shutdown('test');
    expect(lifecycle.isReady()).toBe(false);
    expect(lifecycle.isLive()).toBe(true);
    expect(lifecycle.state).toBe('lame-duck');
    expect(await canConnect(port)).toBe(true);
    const report = await done;
    expect(await canConnect(port)).toBe(false);
    expect(report.outcome).toBe('clean');
    expect(report.exitCode).toBe(0);
    expect(report.phases.map((p) => p.name)).toEqual(['deregister', 'lame-duck', 'stop-accepting', 'drain', 'cleanup']);
    expect(report.phases.find((p) => p.name === 'lame-duck')!.durationMs).toBeGreaterThanOrEqual(295);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^quiesce: shutdown clean in \d+ms \(test\): lame-duck \d+ms, drain \d+ms; .*exit 0$/);
    expect(lifecycle.state).toBe('stopped');
    expect(lifecycle.isLive()).toBe(false);
  });

  it('happens once: concurrent shutdown calls share one run', async () => {
    const { adapter } = await serve();
    const lifecycle = createLifecycle({ adapter, log: false });
    const first = lifecycle.shutdown('a');
    expect(lifecycle.shutdown('b')).toBe(first);
    expect((await first).reason).toBe('a');
  });

  it('runs shutdown hooks with the drain and cleanup hooks after it; a failing hook gives exit 1', async () => {
    const { adapter } = await serve();
    const order: string[] = [];
    const lifecycle = createLifecycle({ adapter, log: false, deadlineMs: 5_000 });
    lifecycle.onDeregister('registry', () => {
      order.push('deregister');
    });
    lifecycle.onShutdown('queue', async () => {
      order.push('shutdown');
      throw new Error('queue broke');
    });
    lifecycle.onCleanup('db', () => {
      order.push('cleanup');
    });
    const report = await lifecycle.shutdown();
    expect(order).toEqual(['deregister', 'shutdown', 'cleanup']);
    expect(report.outcome).toBe('failed');
    expect(report.exitCode).toBe(1);
    expect(report.hooks.hooks[0]).toMatchObject({ name: 'queue', status: 'error' });
    expect(report.cleanup.hooks[0]).toMatchObject({ name: 'db', status: 'ok' });
  });

  it('forces at the deadline, cuts the request, and still runs cleanup in the reserve', async () => {
    const { adapter, port } = await serve(() => {
      /* never answers */
    });
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    let cleaned = false;
    const lifecycle = createLifecycle({ adapter, log: false, deadlineMs: 600, cleanupReserveMs: 200 });
    lifecycle.onCleanup('flush', () => {
      cleaned = true;
    });
    const report = await lifecycle.shutdown();
    expect(report.outcome).toBe('forced');
    expect(report.exitCode).toBe(1);
    expect(report.drain).toMatchObject({ outcome: 'forced', requestsCut: 1, forceClosed: 1 });
    expect(cleaned).toBe(true);
    expect(report.durationMs).toBeLessThan(5_000);
    socket.destroy();
  });

  it('hands upgraded sockets to onUpgraded when the drain starts', async () => {
    const { server, adapter, port } = await serve();
    server.on('upgrade', (_req, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    });
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    await once(client, 'connect');
    client.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    await once(client, 'data');
    let handed = 0;
    const lifecycle = createLifecycle({
      adapter,
      log: false,
      onUpgraded: (sockets) => {
        handed = sockets.length;
        for (const s of sockets) (s as { end(): void }).end();
      },
    });
    const report = await lifecycle.shutdown();
    expect(handed).toBe(1);
    expect(report.drain.upgradedAtStart).toBe(1);
    expect(report.drain.upgradedForceClosed).toBe(0);
    expect(report.outcome).toBe('clean');
  });

  it.each([
    ['adapter', { adapter: {} }],
    ['deadlineMs', { deadlineMs: -1 }],
    ['deadlineMs', { deadlineMs: 0 }],
    ['deadlineMs', { deadlineMs: Number.NaN }],
    ['lameDuckMs', { lameDuckMs: 10_000, deadlineMs: 5_000 }],
    ['cleanupReserveMs', { cleanupReserveMs: 6_000, deadlineMs: 5_000 }],
    ['log', { log: 'yes' }],
    ['onUpgraded', { onUpgraded: 3 }],
    ['signals', { signals: 'SIGTERM' }],
  ])('rejects a bad %s with an error naming it', async (option, options) => {
    const { adapter } = await serve();
    const attempt = () => createLifecycle({ adapter, ...options } as never);
    expect(attempt).toThrow(LifecycleOptionError);
    expect(attempt).toThrow(new RegExp(`Invalid ${option}`));
  });
});
