import { once } from 'node:events';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { ManualClock } from '@quiesce/core/testing';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { ExpressOptionError, ExpressStateError } from './errors.ts';
import { type ExpressLifecycle, type ExpressLifecycleOptions, createExpressLifecycle } from './express-lifecycle.ts';

// Express 4 is installed under the npm alias `express4`; both versions run every scenario.
const express4 = createRequire(import.meta.url)('express4') as typeof express;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Closes everything a test opened, even when it failed half-way. */
function track<T extends ExpressLifecycle>(lifecycle: T): T {
  cleanups.push(async () => {
    lifecycle.uninstall();
    lifecycle.forceClose();
    for (const server of lifecycle.servers) {
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    }
  });
  return lifecycle;
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

async function portOf(server: Server): Promise<number> {
  if (!server.listening) await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One keep-alive connection speaking HTTP/1.1 by hand: headers as sent, and FIN versus reset. */
async function rawConnection(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  cleanups.push(() => socket.destroy());
  await once(socket, 'connect');
  let buffer = '';
  let ended: 'fin' | 'reset' | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
  });
  socket.on('end', () => {
    ended ??= 'fin';
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    ended ??= error.code === 'ECONNRESET' ? 'reset' : 'fin';
  });
  const until = async (test: () => boolean, ms = 10_000): Promise<void> => {
    const limit = Date.now() + ms;
    while (!test()) {
      if (Date.now() > limit) throw new Error(`timed out; received ${JSON.stringify(buffer)}, ended ${ended}`);
      await sleep(10);
    }
  };
  const complete = (): boolean => {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
    return buffer.length >= end + 4 + length;
  };
  return {
    async get(path: string): Promise<Reply> {
      buffer = '';
      socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`);
      await until(() => complete() || ended !== undefined);
      if (!complete()) throw new Error(`connection ended (${ended}) without a complete response to ${path}`);
      const [head = '', body = ''] = buffer.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      return { status: Number(statusLine.split(' ')[1]), headers, body };
    },
    async closed(): Promise<'fin' | 'reset'> {
      await until(() => ended !== undefined);
      return ended!;
    },
    get ended(): 'fin' | 'reset' | undefined {
      return ended;
    },
  };
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

const quiet: ExpressLifecycleOptions = { handleSignals: false, log: false };

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
])('%s', (_version, makeApp) => {
  function app(): express.Express {
    const instance = makeApp();
    // Stands for the app's own middleware (CORS, auth, logging): it must apply to the health routes.
    instance.use((_req, res, next) => {
      res.setHeader('x-middleware', 'seen');
      next();
    });
    instance.get('/', (_req, res) => {
      res.send('hello\n');
    });
    instance.get('/slow', (req, res) => {
      const timer = setTimeout(() => res.send(`slept ${req.query['ms']}ms\n`), Number(req.query['ms']));
      res.once('close', () => clearTimeout(timer));
    });
    return instance;
  }

  it('listen() wraps its server; /readyz goes through the middleware and answers 503 with Connection: close during the lame duck', async () => {
    const instance = app();
    const lifecycle = createExpressLifecycle(instance, { ...quiet, lameDuckMs: 1_000, deadlineMs: 10_000 });
    track(lifecycle);
    instance.get('/readyz', lifecycle.readiness);
    instance.get('/healthz', lifecycle.liveness);
    const port = await portOf(lifecycle.listen(0, '127.0.0.1'));
    expect(lifecycle.servers).toHaveLength(1);

    const conn = await rawConnection(port);
    const before = await conn.get('/readyz');
    expect(before).toMatchObject({ status: 200, body: 'ready\n' });
    expect(before.headers['x-middleware']).toBe('seen');
    expect(before.headers['connection']).toBe('keep-alive');

    const done = lifecycle.shutdown('test');
    expect(lifecycle.isReady()).toBe(false);
    const during = await conn.get('/readyz');
    expect(during).toMatchObject({ status: 503, body: 'shutting down\n' });
    expect(during.headers['x-middleware']).toBe('seen');
    expect(during.headers['connection']).toBe('close');
    expect(await conn.closed()).toBe('fin');

    // The listener still accepts during the lame duck; liveness stays 200.
    const fresh = await rawConnection(port);
    expect((await fresh.get('/healthz')).status).toBe(200);

    const report = await done;
    expect(report.outcome).toBe('clean');
    expect(await refused(port)).toBe('ECONNREFUSED');
  });

  it('wraps the server app.listen() returned: an in-flight request completes with Connection: close', async () => {
    const server = app().listen(0, '127.0.0.1');
    const lifecycle = createExpressLifecycle(server, { ...quiet, deadlineMs: 10_000 });
    track(lifecycle);
    expect('listen' in lifecycle).toBe(false);
    expect(lifecycle.servers).toEqual([server]);
    const port = await portOf(server);

    const conn = await rawConnection(port);
    const slow = conn.get('/slow?ms=600');
    await sleep(150);
    const done = lifecycle.shutdown('test');
    const response = await slow;
    expect(response).toMatchObject({ status: 200, body: 'slept 600ms\n' });
    expect(response.headers['connection']).toBe('close');
    expect(await conn.closed()).toBe('fin');
    const report = await done;
    expect(report.outcome).toBe('clean');
    expect(report.drain.requestsCompleted).toBe(1);
  });

  it('runs the shutdown and cleanup hooks and reports them', async () => {
    const ran: string[] = [];
    const lifecycle = track(createExpressLifecycle(app(), { ...quiet, deadlineMs: 5_000 }));
    lifecycle.onShutdown('stop-consumers', () => {
      ran.push('shutdown');
    });
    lifecycle.onCleanup('close-db', () => {
      ran.push('cleanup');
    });
    const report = await lifecycle.shutdown();
    expect(ran).toEqual(['shutdown', 'cleanup']);
    expect(report.hooks.totals.ok + report.cleanup.totals.ok).toBe(2);
    expect(lifecycle.state).toBe('stopped');
  });

  it('cuts a request longer than the deadline and reports the shutdown as forced', async () => {
    const instance = app();
    const lifecycle = track(createExpressLifecycle(instance, { ...quiet, deadlineMs: 600 }));
    const port = await portOf(lifecycle.listen(0, '127.0.0.1'));
    const conn = await rawConnection(port);
    const tooLong = conn.get('/slow?ms=8000').then(
      () => 'answered',
      () => 'cut',
    );
    await sleep(150);
    const report = await lifecycle.shutdown();
    expect(report.outcome).toBe('forced');
    expect(report.drain.requestsCut).toBe(1);
    expect(await tooLong).toBe('cut');
  });

  it('one drain covers every server listen() created', async () => {
    const lifecycle = createExpressLifecycle(app(), { ...quiet, deadlineMs: 5_000 });
    track(lifecycle);
    const first = await portOf(lifecycle.listen(0, '127.0.0.1'));
    const second = await portOf(lifecycle.listen({ port: 0, host: '127.0.0.1' }));
    expect(lifecycle.servers).toHaveLength(2);
    expect((await (await rawConnection(second)).get('/')).body).toBe('hello\n');
    expect((await lifecycle.shutdown()).outcome).toBe('clean');
    expect(await refused(first)).toBe('ECONNREFUSED');
    expect(await refused(second)).toBe('ECONNREFUSED');
  });

  it('calls the listen callback once, with the error when the port is taken', async () => {
    const first = track(createExpressLifecycle(app(), quiet));
    const port = await portOf(first.listen(0, '127.0.0.1'));
    const second = track(createExpressLifecycle(app(), quiet));
    const calls: Array<Error | undefined> = [];
    await new Promise<void>((resolve) => {
      second.listen(port, '127.0.0.1', (error) => {
        calls.push(error);
        resolve();
      });
    });
    await sleep(50);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ code: 'EADDRINUSE' });
    const ok: Array<Error | undefined> = [];
    await new Promise<void>((resolve) => second.listen(0, '127.0.0.1', (error) => resolve(void ok.push(error))));
    expect(ok).toEqual([undefined]);
  });

  it('refuses listen() once shutdown began', async () => {
    const lifecycle = track(createExpressLifecycle(app(), quiet));
    await lifecycle.shutdown();
    const error = caught(() => lifecycle.listen(0));
    expect(error).toBeInstanceOf(ExpressStateError);
    expect(error).toMatchObject({ code: 'QUIESCE_EXPRESS_SHUTTING_DOWN' });
  });
});

describe('signal handling', () => {
  const count = (): number => process.listenerCount('SIGTERM');

  it('installs the signal policy when the server starts listening, not before', async () => {
    const initial = count();
    const lifecycle = track(createExpressLifecycle(express(), { log: false }));
    expect(count()).toBe(initial);
    await portOf(lifecycle.listen(0, '127.0.0.1'));
    expect(count()).toBe(initial + 1);
    lifecycle.uninstall();
    expect(count()).toBe(initial);
  });

  it('installs at once for a server that already listens', async () => {
    const initial = count();
    const server = express().listen(0, '127.0.0.1');
    await portOf(server);
    const lifecycle = track(createExpressLifecycle(server, { log: false }));
    expect(count()).toBe(initial + 1);
    lifecycle.uninstall();
  });

  it('leaves signals alone with handleSignals: false', async () => {
    const initial = count();
    const lifecycle = track(createExpressLifecycle(express(), quiet));
    await portOf(lifecycle.listen(0, '127.0.0.1'));
    expect(count()).toBe(initial);
  });
});

describe("the user's settings reach the Node adapter of every server", () => {
  /** An app whose lifecycle runs on a manual clock, listening, with one keep-alive client. */
  async function started(options: ExpressLifecycleOptions) {
    const clock = new ManualClock();
    const instance = express();
    instance.get('/', (_req, res) => {
      res.send('hello\n');
    });
    const lifecycle = track(createExpressLifecycle(instance, { ...quiet, clock, ...options }));
    const server = lifecycle.listen(0, '127.0.0.1');
    const port = await portOf(server);
    return { clock, lifecycle, server, port };
  }

  it('idleGraceMs and clock reach the response hold: the listener closes after that much quiet on that clock', async () => {
    const { clock, lifecycle, server, port } = await started({ idleGraceMs: 400, holdMaxMs: 60_000, lameDuckMs: 100, deadlineMs: 60_000 });
    const done = lifecycle.shutdown('test');
    expect((await (await rawConnection(port)).get('/')).headers['connection']).toBe('close'); // at 0 a client starts reconnecting
    await clock.advance(100); // the lame duck ends: hold until 400 ms of quiet since 0
    await clock.advance(299);
    expect(server.listening).toBe(true);
    await clock.advance(2); // quiet, confirmed 1 ms on
    await sleep(10);
    expect(server.listening).toBe(false);
    expect((await done).outcome).toBe('clean');
  });

  it('idleGraceMs and clock reach the drain: an idle keep-alive socket is closed after that grace on that clock', async () => {
    const { clock, lifecycle, port } = await started({ idleGraceMs: 400, holdMaxMs: 0, lameDuckMs: 100, deadlineMs: 60_000 });
    const idle = await rawConnection(port);
    await idle.get('/'); // keep-alive, idle from 0
    const done = lifecycle.shutdown('test');
    await clock.advance(399);
    await sleep(300); // longer than the default grace in real time: only the manual clock counts
    expect(lifecycle.state).toBe('draining');
    expect(idle.ended).toBeUndefined();
    await clock.advance(2); // idle past the grace, confirmed 1 ms on
    expect(await idle.closed()).toBe('fin');
    expect((await done).drain).toMatchObject({ outcome: 'drained', idleClosed: 1 });
  });

  it('the deadline ends the response hold at once: holdMaxMs never outlives it', async () => {
    const { clock, lifecycle, server, port } = await started({ idleGraceMs: 600_000, holdMaxMs: 600_000, lameDuckMs: 100, deadlineMs: 1_000 });
    const done = lifecycle.shutdown('test');
    await (await rawConnection(port)).get('/'); // Connection: close went out: stopAccepting will hold
    await clock.advance(500);
    expect(server.listening).toBe(true); // holding
    await clock.advance(500); // the deadline
    const report = await done;
    expect(server.listening).toBe(false);
    expect(report.phases.find((phase) => phase.name === 'stop-accepting')).toMatchObject({ startMs: 100, durationMs: 900 });
    expect(report.outcome).toBe('forced');
  });
});

describe('option validation', () => {
  it.each([
    ['appOrServer', 42],
    ['appOrServer', {}],
    ['appOrServer', null],
  ])('refuses %s = %j', (option, value) => {
    const error = caught(() => createExpressLifecycle(value as never));
    expect(error).toBeInstanceOf(ExpressOptionError);
    expect(error).toMatchObject({ option, value, code: 'QUIESCE_EXPRESS_INVALID_OPTION' });
  });

  it.each([
    ['options', null],
    ['handleSignals', 'yes'],
    ['tcpKeepAliveMs', -1],
    ['tcpKeepAliveMs', true],
    ['deadlineMs', -5],
    ['deadlineMs', 0],
    ['lameDuckMs', Number.NaN],
    ['cleanupReserveMs', 'soon'],
    ['log', 'stdout'],
    ['onUpgraded', 1],
    ['signals', 7],
    ['idleGraceMs', -1],
    ['preconnectGraceMs', Number.POSITIVE_INFINITY],
    ['pollMinMs', 0],
    ['clock', {}],
    ['lameDuck', 5_000],
  ])('refuses %s = %s with an ExpressOptionError naming it', (option, value) => {
    const options = option === 'options' ? value : { [option]: value };
    const error = caught(() => createExpressLifecycle(express(), options as never));
    expect(error).toBeInstanceOf(ExpressOptionError);
    expect(error).toMatchObject({ name: 'ExpressOptionError', code: 'QUIESCE_EXPRESS_INVALID_OPTION', option });
    expect((error as Error).message).toContain(option);
    expect((error as Error).message).toMatch(/Expected .+\.$/);
  });

  it('keeps the error of the package underneath as the cause', () => {
    const error = caught(() => createExpressLifecycle(express(), { deadlineMs: 1_000, lameDuckMs: 2_000 })) as ExpressOptionError;
    expect(error.option).toBe('lameDuckMs');
    expect(error.message).toBe('Invalid lameDuckMs: 2000. Expected less than deadlineMs (1000), or there is no time left to drain.');
    expect(error.cause).toMatchObject({ name: 'LifecycleOptionError', code: 'QUIESCE_INVALID_OPTION' });
  });

  it('touches nothing when it refuses: no signal listener, no wrapped server', async () => {
    const initial = process.listenerCount('SIGTERM');
    const server = express().listen(0, '127.0.0.1');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    await portOf(server);
    expect(caught(() => createExpressLifecycle(server, { deadlineMs: -1 }))).toBeInstanceOf(ExpressOptionError);
    expect(process.listenerCount('SIGTERM')).toBe(initial);
    expect(server.listenerCount('request')).toBe(1);
  });
});
