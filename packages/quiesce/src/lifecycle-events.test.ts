// A whole shutdown as the event catalog tells it: a real Node server and adapter on loopback, every
// quiesce:* channel subscribed through node:diagnostics_channel, as an operator's code would.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { createNodeAdapter } from '@quiesce/node';
import { afterEach, describe, expect, it } from 'vitest';
import { createLifecycle } from './lifecycle.ts';

const CHANNELS = [
  'quiesce:shutdown:start',
  'quiesce:shutdown:phase:start',
  'quiesce:shutdown:phase:end',
  'quiesce:shutdown:end',
  'quiesce:hook:end',
  'quiesce:drain:progress',
  'quiesce:drain:connection-closed',
  'quiesce:drain:end',
];

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

type Seen = [channel: string, message: Record<string, unknown>];

function record(): Seen[] {
  const seen: Seen[] = [];
  for (const name of CHANNELS) {
    const listener = (message: unknown): void => {
      seen.push([name, message as Record<string, unknown>]);
    };
    subscribe(name, listener);
    cleanups.push(() => unsubscribe(name, listener));
  }
  return seen;
}

async function serve(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end('ok'));
  cleanups.push(() => {
    server.closeAllConnections();
    if (server.listening) server.close();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** One request on a keep-alive connection that then stays open, idle. */
async function idleKeepAlive(port: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  await once(socket, 'connect');
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await once(socket, 'data');
}

describe('a shutdown, as the event catalog tells it', () => {
  it('start, each phase, the hooks, the drain and its connections, then the final report, all before the flush', async () => {
    const { server, port } = await serve();
    const seen = record();
    const lifecycle = createLifecycle({ adapter: createNodeAdapter(server, { idleGraceMs: 20, preconnectGraceMs: 20 }), deadlineMs: 5_000, lameDuckMs: 50, log: false });
    lifecycle.onShutdown('queue', () => {});
    lifecycle.onCleanup('db', () => {});
    let seenAtFlush: string[] = [];
    lifecycle.onFlush('telemetry', () => {
      seenAtFlush = seen.map(([name]) => name);
    });
    await idleKeepAlive(port);

    const report = await lifecycle.shutdown('SIGTERM');
    const names = seen.map(([name]) => name);
    const [start] = seen;
    expect(start).toEqual([
      'quiesce:shutdown:start',
      { shutdownId: expect.any(Number), reason: 'SIGTERM', kind: 'shutdown', adapter: 'node', deadlineMs: 5_000, lameDuckMs: 50, cleanupReserveMs: 1_000 },
    ]);
    const id = start![1]['shutdownId'];
    const lifecycleMessages = seen.filter(([name]) => name.startsWith('quiesce:shutdown:'));
    expect(lifecycleMessages.every(([, m]) => m['shutdownId'] === id)).toBe(true);

    // Every phase starts and ends once, and the ends carry what the report records.
    const phaseEnds = seen.filter(([name]) => name === 'quiesce:shutdown:phase:end').map(([, m]) => m);
    expect(phaseEnds.map((m) => m['phase']).sort()).toEqual(report.phases.map((p) => p.name).sort());
    for (const phase of report.phases) expect(phaseEnds).toContainEqual({ shutdownId: id, phase: phase.name, startMs: phase.startMs, durationMs: phase.durationMs });
    expect(seen.filter(([name]) => name === 'quiesce:shutdown:phase:start').map(([, m]) => m['phase']).sort()).toEqual(report.phases.map((p) => p.name).sort());

    // The drain's part sits inside the drain phase.
    const drainStart = seen.findIndex(([name, m]) => name === 'quiesce:shutdown:phase:start' && m['phase'] === 'drain');
    const drainEnd = seen.findIndex(([name, m]) => name === 'quiesce:shutdown:phase:end' && m['phase'] === 'drain');
    const inDrain = names.slice(drainStart + 1, drainEnd);
    expect(inDrain).toEqual(expect.arrayContaining(['quiesce:drain:connection-closed', 'quiesce:drain:end', 'quiesce:hook:end']));
    expect(seen.filter(([name]) => name === 'quiesce:drain:connection-closed').map(([, m]) => m)).toEqual([{ how: 'idle', inFlight: 0, upgraded: false }]);
    expect(seen.find(([name]) => name === 'quiesce:drain:end')![1]).toBe(report.drain);
    expect(seen.filter(([name]) => name === 'quiesce:hook:end').map(([, m]) => `${m['phase']} ${m['name']} ${m['status']}`)).toEqual([
      'shutdown queue ok',
      'cleanup db ok',
      'flush telemetry ok',
    ]);

    // The final report: the report itself plus the shutdown id, published before the flush.
    const end = seen.find(([name]) => name === 'quiesce:shutdown:end')![1];
    expect(end).toEqual({ ...report, shutdownId: id });
    expect(seenAtFlush.at(-1)).toBe('quiesce:shutdown:end');
    expect(names.indexOf('quiesce:shutdown:end')).toBe(names.length - 2); // only the flush's own hook:end after it
  });

  it('a restart is a shutdown of kind restart; the next shutdown in this process gets the next id', async () => {
    const seen = record();
    const first = await serve();
    await createLifecycle({ adapter: createNodeAdapter(first.server), log: false }).shutdown('restart');
    const second = await serve();
    await createLifecycle({ adapter: createNodeAdapter(second.server), log: false }).shutdown();
    const starts = seen.filter(([name]) => name === 'quiesce:shutdown:start').map(([, m]) => m);
    expect(starts).toMatchObject([{ kind: 'restart', reason: 'restart', cleanupReserveMs: 0 }, { kind: 'shutdown', reason: 'manual' }]);
    expect(starts[1]!['shutdownId']).toBe((starts[0]!['shutdownId'] as number) + 1);
  });
});
