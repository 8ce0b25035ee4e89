import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HarnessOptionError } from './errors.ts';
import { runFreshConnectionLoad } from './fresh-connection-load.ts';
import { runKeepAliveLoad } from './keep-alive-load.ts';
import type { LoadCounts, LoadResult } from './load-result.ts';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

interface CountingServer {
  readonly server: Server;
  readonly port: number;
  /** Requests the handler has seen. */
  handled(): number;
  /** Resolves once the handler has seen `count` requests. */
  reached(count: number): Promise<void>;
}

async function startPlainServer(
  handler: (req: IncomingMessage, res: ServerResponse, index: number) => void = (_req, res) => res.end('ok'),
): Promise<CountingServer> {
  let handled = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    handled += 1;
    handler(req, res, handled);
    for (const waiter of waiters.filter((w) => w.count <= handled)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    handled: () => handled,
    reached: (count) =>
      count <= handled ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

/** Every attempt is accounted for exactly once, per client and in total. */
function expectConsistentAccounting(result: LoadResult): void {
  const sum = (pick: (counts: LoadCounts) => number): number =>
    result.clients.reduce((total, counts) => total + pick(counts), 0);
  for (const counts of [...result.clients, result.totals]) {
    expect(counts.ok + counts.refused + counts.ambiguous + counts.error).toBe(counts.attempts);
    expect(Object.values(counts.ambiguousByKind).reduce((a, b) => a + b, 0)).toBe(counts.ambiguous);
    expect(Object.values(counts.refusedByErrno).reduce((a, b) => a + b, 0)).toBe(counts.refused);
    expect(Object.values(counts.statuses).reduce((a, b) => a + b, 0)).toBe(counts.ok);
  }
  for (const key of ['attempts', 'ok', 'refused', 'ambiguous', 'error', 'connections'] as const) {
    expect(result.totals[key]).toBe(sum((counts) => counts[key]));
  }
}

function summary(result: LoadResult): string {
  const { totals } = result;
  const perClient = result.clients.map((counts) => counts.ambiguous).join(' ');
  return (
    `attempts=${totals.attempts} ok=${totals.ok} refused=${totals.refused} ambiguous=${totals.ambiguous} ` +
    `(${JSON.stringify(totals.ambiguousByKind)}) error=${totals.error} connections=${totals.connections} ` +
    `connection-close=${totals.connectionCloseResponses} stoppedBy=${result.stoppedBy} in ${result.durationMs} ms; ` +
    `ambiguous per client: ${perClient}`
  );
}

describe('keep-alive load', () => {
  it('gets only ok responses from a running server, one connection per client, within the request budget', async () => {
    const { port, handled } = await startPlainServer();
    const result = await runKeepAliveLoad({ port, clients: 20, maxRequests: 2_000, maxDurationMs: 20_000 });
    expectConsistentAccounting(result);
    expect(result.stoppedBy).toBe('maxRequests');
    expect(result.totals).toMatchObject({ attempts: 2_000, ok: 2_000, refused: 0, ambiguous: 0, error: 0 });
    expect(result.totals.connections).toBe(20);
    expect(result.totals.statuses).toEqual({ 200: 2_000 });
    expect(result.clients).toHaveLength(20);
    expect(result.clients.every((counts) => counts.ok > 0)).toBe(true);
    expect(handled()).toBe(2_000);
  });

  it('reconnects after a response with Connection: close and counts those responses', async () => {
    const { port } = await startPlainServer((_req, res, index) => {
      if (index % 10 === 0) res.setHeader('Connection', 'close');
      res.end('ok');
    });
    const result = await runKeepAliveLoad({ port, clients: 5, maxRequests: 500, maxDurationMs: 20_000 });
    expectConsistentAccounting(result);
    expect(result.totals).toMatchObject({ attempts: 500, ok: 500, ambiguous: 0, refused: 0, connectionCloseResponses: 50 });
    // One connection per client to begin with, and one more after each Connection: close (the last may be unused).
    expect(result.totals.connections).toBeGreaterThanOrEqual(5 + 50 - 5);
    expect(result.totals.connections).toBeLessThanOrEqual(5 + 50);
  });

  it('stops when `until` fires, whether a promise or an AbortSignal', async () => {
    const { port, reached } = await startPlainServer();
    const byPromise = await runKeepAliveLoad({ port, clients: 4, until: reached(200), maxDurationMs: 20_000 });
    expect(byPromise.stoppedBy).toBe('until');
    expect(byPromise.totals.ok).toBeGreaterThanOrEqual(200 - 4);
    const aborted = await runKeepAliveLoad({ port, clients: 4, until: AbortSignal.abort() });
    expect(aborted).toMatchObject({ stoppedBy: 'until', totals: { attempts: 0 } });
  });

  it('stops at maxDurationMs when nothing else stops it', async () => {
    const { port } = await startPlainServer();
    const result = await runKeepAliveLoad({ port, clients: 2, maxDurationMs: 200, maxRequests: 10_000_000 });
    expect(result.stoppedBy).toBe('maxDuration');
    expectConsistentAccounting(result);
  });

  it('counts refused attempts, without any ambiguous one, against a port where nothing listens', async () => {
    const { port, server } = await startPlainServer();
    await new Promise((resolve) => server.close(resolve));
    const result = await runKeepAliveLoad({ port, clients: 3, maxRequests: 30, retryDelayMs: 1 });
    expectConsistentAccounting(result);
    expect(result.totals).toMatchObject({ attempts: 30, refused: 30, ok: 0, ambiguous: 0, connections: 0 });
    expect(result.totals.refusedByErrno).toEqual({ ECONNREFUSED: 30 });
    expect(result.failures[0]).toMatchObject({ outcome: 'refused', kind: undefined });
  });

  it('accounts for every request when a bare node:http server.close() runs in the middle of the load', async () => {
    const { port, server, reached, handled } = await startPlainServer();
    const stop = new AbortController();
    const load = runKeepAliveLoad({ port, clients: 20, until: stop.signal, maxRequests: 200_000, maxDurationMs: 20_000 });
    await reached(1_000);
    // Node ≥ 19: close() stops the listener and closes the connections idle at this instant; busy
    // keep-alive connections stay open and keep serving.
    server.close();
    server.closeIdleConnections();
    const handledAtClose = handled();
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop.abort();
    const result = await load;
    console.log(`[in-process node:http, bare close() under 20-client keep-alive load] ${summary(result)}`);
    expectConsistentAccounting(result);
    expect(result.stoppedBy).toBe('until');
    expect(result.totals.error).toBe(0);
    // Every response the server sent was read: no request was lost from the accounting.
    expect(result.totals.ok).toBe(handled());
    expect(handled()).toBeGreaterThanOrEqual(handledAtClose);
    // Handlers answer synchronously, so every connection is idle server-side when close() runs while each
    // client has its next request on the wire: the known failure mode, one lost request per client.
    expect(result.totals.ambiguous).toBeGreaterThanOrEqual(1);
    // Each client whose connection was closed reconnects, and the listener is gone.
    expect(result.totals.refused).toBeGreaterThan(0);
    expect(result.totals.refusedByErrno).toEqual({ ECONNREFUSED: result.totals.refused });
  });

  it('rejects bad options with a HarnessOptionError naming the option', async () => {
    await expect(runKeepAliveLoad({ port: 0 })).rejects.toMatchObject({ option: 'port' });
    await expect(runKeepAliveLoad({ port: 80, host: '10.0.0.1' })).rejects.toMatchObject({ option: 'host' });
    await expect(runKeepAliveLoad({ port: 80, clients: 0 })).rejects.toBeInstanceOf(HarnessOptionError);
    await expect(runKeepAliveLoad({ port: 80, maxRequests: 1.5 })).rejects.toMatchObject({ option: 'maxRequests' });
    await expect(runKeepAliveLoad({ port: 80, maxDurationMs: Number.POSITIVE_INFINITY })).rejects.toMatchObject({
      option: 'maxDurationMs',
    });
    await expect(runKeepAliveLoad({ port: 80, until: 5 as never })).rejects.toMatchObject({ option: 'until' });
  });
});

describe('fresh-connection load', () => {
  it('opens one connection per request, sends Connection: close and gets only ok responses', async () => {
    const seen: (string | undefined)[] = [];
    const { port } = await startPlainServer((req, res) => {
      seen.push(req.headers.connection);
      res.end('ok');
    });
    const result = await runFreshConnectionLoad({ port, clients: 10, maxRequests: 300, maxDurationMs: 20_000 });
    expectConsistentAccounting(result);
    expect(result.totals).toMatchObject({ attempts: 300, ok: 300, connections: 300, connectionCloseResponses: 300 });
    expect(new Set(seen)).toEqual(new Set(['close']));
  });

  it('counts refused attempts once the listener is closed', async () => {
    const { port, server, reached } = await startPlainServer();
    const stop = new AbortController();
    const load = runFreshConnectionLoad({ port, clients: 5, until: stop.signal, maxRequests: 50_000, maxDurationMs: 20_000 });
    await reached(100);
    server.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop.abort();
    const result = await load;
    console.log(`[in-process node:http, close() under 5-client fresh-connection load] ${summary(result)}`);
    expectConsistentAccounting(result);
    expect(result.totals.refused).toBeGreaterThan(0);
    expect(result.totals.ok).toBeGreaterThanOrEqual(100);
  });
});
