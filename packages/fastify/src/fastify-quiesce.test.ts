import { once } from 'node:events';
import { connect as connectHttp2 } from 'node:http2';
import { type Socket, connect } from 'node:net';
import { ManualClock } from '@quiesce/core/testing';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { FastifyQuiesceOptionError } from './errors.ts';
import { type FastifyQuiesceOptions, fastifyQuiesce } from './fastify-quiesce.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const quiet: FastifyQuiesceOptions = { handleSignals: false, log: false };

/**
 * A Fastify app as an application would write it: an onRequest hook standing for its CORS / auth /
 * logging, a fast and a slow route, and an onClose hook. `events` records what ran, in order.
 */
async function makeApp(
  options: FastifyQuiesceOptions,
  server: FastifyServerOptions = {},
): Promise<{ app: FastifyInstance; events: string[] }> {
  const events: string[] = [];
  const app = Fastify(server);
  cleanups.push(async () => {
    app.quiesce?.uninstall();
    app.quiesce?.forceClose();
    await app.close().catch(() => undefined);
  });
  await app.register(fastifyQuiesce, options);
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-app-hook', 'seen');
  });
  app.addHook('onResponse', async (request) => {
    events.push(`response ${request.url}`);
  });
  app.addHook('onClose', async () => {
    events.push('onClose');
  });
  app.get('/', async () => 'hello\n');
  app.get<{ Querystring: { ms: string } }>('/slow', async (request) => {
    await sleep(Number(request.query.ms));
    return `slept ${request.query.ms}ms\n`;
  });
  return { app, events };
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
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

describe('routes and decoration', () => {
  it('registers /readyz and /healthz as ordinary routes: the app hooks run on them, 503 once shutdown began', async () => {
    const { app } = await makeApp({ ...quiet, lameDuckMs: 2_000, deadlineMs: 10_000 });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.body).toBe('ready\n');
    expect(ready.headers['x-app-hook']).toBe('seen');
    expect(ready.headers['cache-control']).toBe('no-store');
    void app.quiesce.shutdown('test');
    const notReady = await app.inject('/readyz');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.body).toBe('shutting down\n');
    expect(notReady.headers['x-app-hook']).toBe('seen');
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject({ method: 'HEAD', url: '/readyz' })).statusCode).toBe(503);
  });

  it('takes other paths, or none', async () => {
    const { app } = await makeApp({ ...quiet, readinessPath: '/ready', livenessPath: false });
    expect((await app.inject('/ready')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(404);
    expect((await app.inject('/healthz')).statusCode).toBe(404);
  });

  it('decorates the instance with its lifecycle', async () => {
    const { app } = await makeApp(quiet);
    expect(app.quiesce.isReady()).toBe(true);
    expect(app.quiesce.state).toBe('serving');
    expect(typeof app.quiesce.onShutdown).toBe('function');
  });

  it('accepts the options of register() itself', async () => {
    const app = Fastify();
    cleanups.push(() => app.close());
    await app.register(fastifyQuiesce, { ...quiet, prefix: '/ignored', logLevel: 'warn' } as FastifyQuiesceOptions);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
  });
});

describe('the shutdown sequence over real sockets', () => {
  it('shutdown(): in-flight request completes with Connection: close, then fastify.close() runs the onClose hooks', async () => {
    const { app, events } = await makeApp({ ...quiet, deadlineMs: 10_000 });
    app.quiesce.onShutdown('record', () => {
      events.push('onShutdown');
    });
    const port = await listen(app);
    const conn = await rawConnection(port);
    const slow = conn.get('/slow?ms=600');
    await sleep(150);
    const done = app.quiesce.shutdown('test');
    const response = await slow;
    expect(response).toMatchObject({ status: 200, body: 'slept 600ms\n' });
    expect(response.headers['connection']).toBe('close');
    expect(response.headers['x-app-hook']).toBe('seen');
    expect(await conn.closed()).toBe('fin');
    const report = await done;
    expect(report.outcome).toBe('clean');
    expect(report.drain.requestsCompleted).toBe(1);
    expect(report.cleanup.hooks.map((hook) => [hook.name, hook.status])).toEqual([['fastify.close', 'ok']]);
    expect(events).toEqual(['onShutdown', 'response /slow?ms=600', 'onClose']);
    expect(await refused(port)).toBe('ECONNREFUSED');
  });

  it('a reused keep-alive socket during the lame duck gets 200 with Connection: close (Fastify is not closing yet)', async () => {
    const { app } = await makeApp({ ...quiet, lameDuckMs: 1_000, deadlineMs: 10_000 });
    const port = await listen(app);
    const conn = await rawConnection(port);
    expect((await conn.get('/')).headers['connection']).toBe('keep-alive');
    const done = app.quiesce.shutdown('test');
    const reused = await conn.get('/');
    expect(reused.status).toBe(200);
    expect(reused.headers['connection']).toBe('close');
    expect(await conn.closed()).toBe('fin');
    const fresh = await rawConnection(port);
    const ready = await fresh.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers['x-app-hook']).toBe('seen');
    expect((await done).outcome).toBe('clean');
  });

  it('cuts a request longer than the deadline, still closes Fastify (onClose runs), reports forced', async () => {
    const { app, events } = await makeApp({ ...quiet, deadlineMs: 1_000 });
    const port = await listen(app);
    const conn = await rawConnection(port);
    const tooLong = conn.get('/slow?ms=8000').then(
      () => 'answered',
      () => 'cut',
    );
    await sleep(150);
    const report = await app.quiesce.shutdown('test');
    expect(report.outcome).toBe('forced');
    expect(report.drain.requestsCut).toBe(1);
    expect(await tooLong).toBe('cut');
    expect(events).toContain('onClose');
  });
});

describe("the user's settings reach the Node adapter", () => {
  it('idleGraceMs and clock reach the response hold: the listener closes after that much quiet on that clock', async () => {
    const clock = new ManualClock();
    const { app } = await makeApp({ ...quiet, clock, idleGraceMs: 400, holdMaxMs: 60_000, lameDuckMs: 100, deadlineMs: 60_000 });
    const port = await listen(app);
    const done = app.quiesce.shutdown('test');
    expect((await (await rawConnection(port)).get('/')).headers['connection']).toBe('close'); // at 0 a client starts reconnecting
    await clock.advance(100); // the lame duck ends: hold until 400 ms of quiet since 0
    await clock.advance(299);
    expect(app.server.listening).toBe(true);
    await clock.advance(2); // quiet, confirmed 1 ms on
    await sleep(10);
    expect(app.server.listening).toBe(false);
    await clock.advance(1_000);
    expect((await done).outcome).toBe('clean');
  });

  it('idleGraceMs and clock reach the drain: an idle keep-alive socket is closed after that grace on that clock', async () => {
    const clock = new ManualClock();
    const { app } = await makeApp({ ...quiet, clock, idleGraceMs: 400, holdMaxMs: 0, lameDuckMs: 100, deadlineMs: 60_000 });
    const idle = await rawConnection(await listen(app));
    await idle.get('/'); // keep-alive, idle from 0
    const done = app.quiesce.shutdown('test');
    await clock.advance(399);
    await sleep(300); // longer than the default grace in real time: only the manual clock counts
    expect(app.quiesce.state).toBe('draining');
    expect(idle.ended).toBeUndefined();
    await clock.advance(2); // idle past the grace, confirmed 1 ms on
    expect(await idle.closed()).toBe('fin');
    await clock.advance(1_000);
    expect((await done).drain).toMatchObject({ outcome: 'drained', idleClosed: 1 });
  });

  it('the deadline ends the response hold at once: holdMaxMs never outlives it', async () => {
    const clock = new ManualClock();
    // fastify.close() is a cleanup hook: the drain's deadline is deadlineMs − cleanupReserveMs = 1000.
    const options = { idleGraceMs: 600_000, holdMaxMs: 600_000, lameDuckMs: 100, deadlineMs: 1_200, cleanupReserveMs: 200 };
    const { app } = await makeApp({ ...quiet, clock, ...options });
    const port = await listen(app);
    const done = app.quiesce.shutdown('test');
    await (await rawConnection(port)).get('/'); // Connection: close went out: stopAccepting will hold
    await clock.advance(500);
    expect(app.server.listening).toBe(true); // holding
    await clock.advance(500); // the drain's deadline
    await sleep(10);
    expect(app.server.listening).toBe(false);
    await clock.advance(200);
    const report = await done;
    expect(app.server.listening).toBe(false);
    expect(report.phases.find((phase) => phase.name === 'stop-accepting')).toMatchObject({ startMs: 100, durationMs: 900 });
    expect(report.outcome).toBe('forced');
  });
});

describe('fastify.close() called directly', () => {
  it('holds Fastify in preClose until the drain is over: the in-flight request completes with Connection: close', async () => {
    const { app, events } = await makeApp({ ...quiet, deadlineMs: 10_000 }, { forceCloseConnections: true });
    const port = await listen(app);
    const conn = await rawConnection(port);
    const slow = conn.get('/slow?ms=600');
    await sleep(150);
    const closed = app.close().then(() => events.push('close() resolved'));
    const response = await slow;
    expect(response.status).toBe(200);
    expect(response.headers['connection']).toBe('close');
    await closed;
    expect(events).toEqual(['response /slow?ms=600', 'onClose', 'close() resolved']);
    // close() resolves with the report written.
    expect(app.quiesce.report?.reason).toBe('fastify.close()');
    expect(app.quiesce.report?.outcome).toBe('clean');
    expect(app.quiesce.report?.cleanup.hooks.map((hook) => [hook.name, hook.status])).toEqual([['fastify.close', 'ok']]);
  });

  /**
   * A listening app with a 1 s lame duck and `server` options; fastify.close(), then, 100 ms later, a
   * request on a keep-alive socket that served one before. `closed` is the close() under way.
   */
  async function requestDuringClose(server: FastifyServerOptions = {}): Promise<{ during: Reply; closed: Promise<undefined> }> {
    const { app } = await makeApp({ ...quiet, lameDuckMs: 1_000, deadlineMs: 10_000 }, server);
    const conn = await rawConnection(await listen(app));
    await conn.get('/');
    const closed = app.close();
    await sleep(100);
    return { during: await conn.get('/'), closed };
  }

  it('with return503OnClosing (default), a request on a kept-open socket gets Fastify’s 503 with Connection: close', async () => {
    const { during, closed } = await requestDuringClose();
    expect(during.status).toBe(503);
    expect(during.headers['connection']).toBe('close');
    // Fastify answers before running any hook.
    expect(during.headers['x-app-hook']).toBeUndefined();
    await closed;
  });

  it('with return503OnClosing: false, the same request is served, with Connection: close', async () => {
    const { during, closed } = await requestDuringClose({ return503OnClosing: false });
    expect(during.status).toBe(200);
    expect(during.headers['connection']).toBe('close');
    await closed;
  });
  it('joins a shutdown already under way: close() resolves after the drain and the report, onClose runs once', async () => {
    const { app, events } = await makeApp({ ...quiet, lameDuckMs: 500, deadlineMs: 10_000 });
    const port = await listen(app);
    const conn = await rawConnection(port);
    const slow = conn.get('/slow?ms=800');
    await sleep(100);
    const shutdown = app.quiesce.shutdown('test');
    await sleep(100);
    await app.close();
    expect(app.quiesce.report?.outcome).toBe('clean');
    expect((await slow).headers['connection']).toBe('close');
    expect((await shutdown).reason).toBe('test');
    expect(events.filter((event) => event === 'onClose')).toHaveLength(1);
  });

  it('closes at once when the server never listened (inject-only tests do not wait out the lame duck)', async () => {
    const { app, events } = await makeApp({ ...quiet, lameDuckMs: 30_000, deadlineMs: 60_000 });
    expect((await app.inject('/')).statusCode).toBe(200);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(events).toContain('onClose');
  });
});

describe('signals', () => {
  it('installs the signal policy when the server listens, not at registration', async () => {
    const initial = process.listenerCount('SIGTERM');
    const { app } = await makeApp({ log: false });
    await app.ready();
    expect(process.listenerCount('SIGTERM')).toBe(initial);
    await listen(app);
    expect(process.listenerCount('SIGTERM')).toBe(initial + 1);
    app.quiesce.uninstall();
    expect(process.listenerCount('SIGTERM')).toBe(initial);
  });
});

describe('option validation', () => {
  it.each([
    ['readinessPath', 'readyz'],
    ['readinessPath', true],
    ['livenessPath', 5],
    ['livenessPath', '/readyz'],
    ['handleSignals', 'yes'],
    ['tcpKeepAliveMs', -1],
    ['deadlineMs', -1],
    ['lameDuckMs', 20_000],
    ['cleanupReserveMs', Number.NaN],
    ['log', 'stdout'],
    ['signals', 3],
    ['onUpgraded', 'x'],
    ['idleGraceMs', Number.NaN],
    ['pollMaxMs', -2],
    ['clock', 'now'],
    ['lameDuck', 5_000],
  ])('refuses %s = %s: register() fails with a FastifyQuiesceOptionError naming it', async (option, value) => {
    const app = Fastify();
    cleanups.push(() => app.close().catch(() => undefined));
    const error = await app.register(fastifyQuiesce, { [option]: value } as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FastifyQuiesceOptionError);
    expect(error).toMatchObject({ name: 'FastifyQuiesceOptionError', code: 'QUIESCE_FASTIFY_INVALID_OPTION', option });
    expect((error as Error).message).toContain(option);
  });

  it('keeps the error of the package underneath as the cause', async () => {
    const app = Fastify();
    cleanups.push(() => app.close().catch(() => undefined));
    const error = (await app.register(fastifyQuiesce, { deadlineMs: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    )) as FastifyQuiesceOptionError;
    expect(error.message).toBe('Invalid deadlineMs: 0. Expected a finite number of milliseconds > 0.');
    expect(error.cause).toMatchObject({ name: 'LifecycleOptionError' });
  });

  it('describes a bad value without throwing on odd inputs', () => {
    const error = caught(() => {
      throw new FastifyQuiesceOptionError('readinessPath', Symbol('x'), 'a path');
    });
    expect((error as Error).message).toMatch(/^Invalid readinessPath: .*Expected a path\.$/);
  });
});

describe('fastifyQuiesce on HTTP/2 (http2: true)', () => {
  it('drains it like HTTP/1.1: a stream in flight completes, with no Connection header; its session is told GOAWAY 2^31-1; the report is clean', async () => {
    const { app } = await makeApp(quiet, { http2: true } as FastifyServerOptions);
    const port = await listen(app);
    const session = connectHttp2(`http://127.0.0.1:${port}`);
    cleanups.push(() => session.destroy());
    session.on('error', () => {});
    const goaways: string[] = [];
    session.on('goaway', (code: number, last: number) => goaways.push(`${code}/${last}`));
    const stream = session.request({ ':path': '/slow?ms=300' });
    let body = '';
    let connection: unknown = 'unset';
    stream.setEncoding('utf8');
    stream.on('response', (headers) => {
      connection = headers.connection;
    });
    stream.on('data', (chunk: string) => {
      body += chunk;
    });
    const closed = new Promise((resolve) => stream.on('close', resolve));
    await sleep(50);
    const report = await app.quiesce.shutdown();
    await closed;
    expect(body).toBe('slept 300ms\n');
    expect(connection).toBeUndefined();
    expect(goaways[0]).toBe(`0/${2 ** 31 - 1}`);
    expect(report).toMatchObject({ outcome: 'clean', drain: { outcome: 'drained' } });
  });
});
