import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  AmbiguousFailure,
  type ServerHandle,
  killAllServers,
  openConnection,
  runKeepAliveLoad,
  repoRoot,
  startServer,
} from '../harness/index.ts';
import { sleep } from './targets.ts';

/** The framework examples in apps/ double as this suite's fixtures. */
const exampleApp = (framework: 'express' | 'fastify'): string => `${repoRoot()}/apps/example-${framework}/server.mjs`;

// The framework adapters (@quiesce/express, @quiesce/fastify) checked from outside over real
// sockets with real signals: the example server's scenarios, once per framework, on fixture apps
// that use each framework's own middleware / hooks. Every scenario starts its own process.

afterEach(killAllServers);
afterAll(killAllServers);

interface FrameworkTarget {
  readonly name: string;
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  /** A line the fixture prints at start, proving which framework version runs. */
  readonly version: RegExp;
}

const frameworks: readonly FrameworkTarget[] = [
  { name: 'Express 5', script: exampleApp('express'), env: {}, version: /^express 5\./ },
  { name: 'Express 4', script: exampleApp('express'), env: { EXPRESS_MAJOR: '4' }, version: /^express 4\./ },
  { name: 'Fastify', script: exampleApp('fastify'), env: {}, version: /^fastify 5\./ },
];

function starter(target: Pick<FrameworkTarget, 'script' | 'env'>) {
  return (env: Record<string, string> = {}): Promise<ServerHandle> =>
    startServer({ runtime: 'node', script: target.script, env: { QUIESCE_DEADLINE_MS: '20000', ...target.env, ...env } });
}

/** SIGTERM in the middle of an in-flight request: it completes with Connection: close, then exit 0. */
async function inFlightCompletes(server: ServerHandle): Promise<void> {
  const conn = await openConnection(server.port);
  const inFlight = conn.request({ path: '/slow?ms=1500' });
  await sleep(300);
  server.kill('SIGTERM');
  const response = await inFlight;
  expect(response.status).toBe(200);
  expect(response.body).toBe('slept 1500ms\n');
  expect(response.headers['connection']).toBe('close');
  expect(await conn.waitForClose()).toBe('fin');
  const exit = await server.exited;
  expect(exit.code).toBe(0);
  expect(exit.afterMs).toBeLessThan(10_000); // right after the response, far from the 20 s deadline
}

/** 20 keep-alive clients in a tight loop, SIGTERM in the middle: not one ambiguous failure. */
async function keepAliveLoopLosesNothing(server: ServerHandle): Promise<void> {
  const load = runKeepAliveLoad({ port: server.port, clients: 20, until: server.exited, maxDurationMs: 10_000, maxRequests: 200_000 });
  await sleep(500);
  server.kill('SIGTERM');
  const { totals, failures } = await load;
  expect(failures.filter((f) => f.outcome === 'ambiguous')).toEqual([]);
  expect(totals.ambiguous).toBe(0);
  expect(totals.error).toBe(0);
  expect(totals.ok).toBeGreaterThan(100);
  expect(totals.connectionCloseResponses).toBeGreaterThanOrEqual(1);
  expect((await server.exited).code).toBe(0);
}

describe.each(frameworks)('$name', (target) => {
  const start = starter(target);

  it('prints its address, answers every route with x-pid and the app hook header, and is ready', async () => {
    const server = await start();
    expect(server.stdout.some((line) => target.version.test(line))).toBe(true);
    const conn = await openConnection(server.port);
    const root = await conn.request({ path: '/' });
    expect(root.status).toBe(200);
    expect(root.body).toBe('hello from quiesce\n');
    expect(root.headers['x-pid']).toBe(String(server.pid));
    expect(root.headers['x-app-hook']).toBe('seen');
    expect((await conn.request({ path: '/healthz' })).status).toBe(200);
    const ready = await conn.request({ path: '/readyz' });
    expect(ready.status).toBe(200);
    expect(ready.headers['x-app-hook']).toBe('seen');
    expect((await conn.request({ path: '/slow?ms=50' })).body).toBe('slept 50ms\n');
    expect((await conn.request({ path: '/nope' })).status).toBe(404);
    conn.destroy();
  });

  it('in-flight request completes with Connection: close after SIGTERM, and the process exits 0', async () => {
    const server = await start();
    const idle = await openConnection(server.port);
    await idle.request({ path: '/' }); // an idle keep-alive socket must not hold the exit
    await inFlightCompletes(server);
    expect(await idle.waitForClose()).toBe('fin');
    expect(server.stdout.join('\n')).toMatch(/quiesce: shutdown clean .*requests 1 completed, 0 cut/);
  });

  it('a request on a reused keep-alive socket during the lame duck gets 200 with Connection: close', async () => {
    const server = await start({ QUIESCE_LAME_DUCK_MS: '3000' });
    const conn = await openConnection(server.port);
    expect((await conn.request({ path: '/' })).headers['connection']).not.toBe('close');
    server.kill('SIGTERM');
    await sleep(300);
    const reused = await conn.request({ path: '/' });
    expect(reused.status).toBe(200);
    expect(reused.headers['connection']).toBe('close');
    expect(await conn.waitForClose()).toBe('fin');
    expect((await server.exited).code).toBe(0);
  });

  it('/readyz answers 503 through the app middleware during the lame duck while new connections are accepted, refused after', async () => {
    const server = await start({ QUIESCE_LAME_DUCK_MS: '1500' });
    server.kill('SIGTERM');
    await sleep(300);
    const fresh = await openConnection(server.port);
    const ready = await fresh.request({ path: '/readyz' });
    expect(ready.status).toBe(503);
    expect(ready.body).toBe('shutting down\n');
    expect(ready.headers['x-app-hook']).toBe('seen'); // the app's own middleware / onRequest hook ran
    expect(ready.headers['connection']).toBe('close');
    const healthz = await (await openConnection(server.port)).request({ path: '/healthz' });
    expect(healthz.status).toBe(200);
    await sleep(1_700);
    await expect(openConnection(server.port)).rejects.toMatchObject({ errno: 'ECONNREFUSED' });
    expect((await server.exited).code).toBe(0);
  });

  it('a request longer than the deadline is cut at the deadline and the exit code is non-zero', async () => {
    const server = await start({ QUIESCE_DEADLINE_MS: '1000' });
    const conn = await openConnection(server.port);
    const tooLong = conn.request({ path: '/slow?ms=15000', timeoutMs: 12_000 });
    await sleep(200);
    server.kill('SIGTERM');
    const failure = await tooLong.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AmbiguousFailure);
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(exit.afterMs).toBeLessThan(8_000); // bounded by the 1 s deadline, with room for a slow box
    expect(server.stdout.join('\n')).toMatch(/quiesce: shutdown forced .*requests 0 completed, 1 cut/);
  });

  it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
    await keepAliveLoopLosesNothing(await start());
  });
});

describe('Express: the server from app.listen() handed to the lifecycle', () => {
  const start = starter({ script: exampleApp('express'), env: { EXPRESS_INPUT: 'server' } });

  it('in-flight request completes with Connection: close after SIGTERM, and the process exits 0', async () => {
    await inFlightCompletes(await start());
  });

  it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
    await keepAliveLoopLosesNothing(await start());
  });
});

describe('Fastify: the plugin with Fastify’s own close options', () => {
  describe.each([
    { option: 'forceCloseConnections: "idle"', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'idle' } },
    { option: 'forceCloseConnections: true', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'true' } },
    { option: 'forceCloseConnections: false', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'false' } },
  ])('$option', ({ env }) => {
    const start = starter({ script: exampleApp('fastify'), env });

    it('in-flight request completes with Connection: close, the app onClose hook runs after it, exit 0', async () => {
      const server = await start();
      await inFlightCompletes(server);
      const out = server.stdout.join('\n');
      expect(out).toMatch(/quiesce: shutdown clean .*requests 1 completed, 0 cut/);
      expect(out).toContain('fastify onClose hook ran');
      expect(out.indexOf('fastify onClose hook ran')).toBeLessThan(out.indexOf('quiesce: shutdown clean'));
    });

    it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
      await keepAliveLoopLosesNothing(await start());
    });
  });

  describe('fastify.close() called by the app itself (QUIESCE_FASTIFY_CLOSE=direct)', () => {
    const start = starter({ script: exampleApp('fastify'), env: { QUIESCE_FASTIFY_CLOSE: 'direct' } });

    it('holds Fastify in preClose: the in-flight request completes with Connection: close, onClose runs, exit 0', async () => {
      const server = await start();
      await inFlightCompletes(server);
      const out = server.stdout.join('\n');
      expect(out).toMatch(/quiesce: shutdown clean in \d+ms \(fastify\.close\(\)\).*requests 1 completed, 0 cut/);
      expect(out).toContain('fastify onClose hook ran');
    });

    it('with return503OnClosing (default), a reused keep-alive socket during the lame duck gets Fastify’s 503 with Connection: close', async () => {
      const server = await start({ QUIESCE_LAME_DUCK_MS: '3000' });
      const conn = await openConnection(server.port);
      await conn.request({ path: '/' });
      server.kill('SIGTERM');
      await server.waitForLine(/calling fastify\.close\(\)/);
      await sleep(300);
      const reused = await conn.request({ path: '/' });
      expect(reused.status).toBe(503);
      expect(reused.headers['connection']).toBe('close');
      expect(reused.headers['x-app-hook']).toBeUndefined(); // Fastify answers before any hook runs
      expect(await conn.waitForClose()).toBe('fin');
      expect((await server.exited).code).toBe(0);
    });

    it('with return503OnClosing: false, the same request is served: 200 with Connection: close', async () => {
      const server = await start({ QUIESCE_LAME_DUCK_MS: '3000', FASTIFY_RETURN_503_ON_CLOSING: 'false' });
      const conn = await openConnection(server.port);
      await conn.request({ path: '/' });
      server.kill('SIGTERM');
      await server.waitForLine(/calling fastify\.close\(\)/);
      await sleep(300);
      const reused = await conn.request({ path: '/' });
      expect(reused.status).toBe(200);
      expect(reused.headers['connection']).toBe('close');
      expect((await server.exited).code).toBe(0);
    });

    it('20 keep-alive clients in a tight loop lose not one request (those after close() get 503)', async () => {
      await keepAliveLoopLosesNothing(await start());
    });
  });

  describe('baseline: Fastify 5.12.8 without the plugin (why it exists)', () => {
    const start = starter({ script: exampleApp('fastify'), env: { QUIESCE_FASTIFY_PLUGIN: 'off' } });

    it('close() answers a request already in flight without Connection: close, so its socket outlives close()', async () => {
      const server = await start();
      const conn = await openConnection(server.port);
      const inFlight = conn.request({ path: '/slow?ms=1000' });
      await sleep(300);
      server.kill('SIGTERM');
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(response.headers['connection']).toBe('keep-alive');
      // Fastify's close() now waits for this idle keep-alive socket (keepAliveTimeout, 72 s by default).
      expect(await conn.waitForClose(1_000)).toBe('timeout');
      expect(server.exitStatus).toBeUndefined();
      conn.destroy();
      expect((await server.exited).code).toBe(0);
    });

    it('under 20 keep-alive clients in a tight loop, close() loses requests (idle sockets closed under the clients)', async () => {
      const server = await start();
      const load = runKeepAliveLoad({ port: server.port, clients: 20, until: server.exited, maxDurationMs: 10_000, maxRequests: 200_000 });
      await sleep(500);
      server.kill('SIGTERM');
      const { totals } = await load;
      expect(totals.ok).toBeGreaterThan(100);
      expect(totals.ambiguous).toBeGreaterThan(0); // 20 of 20 clients in each of 6 runs while writing this
    });

    it('with forceCloseConnections: true, close() cuts the request in flight', async () => {
      const server = await startServer({
        runtime: 'node',
        script: exampleApp('fastify'),
        env: { QUIESCE_FASTIFY_PLUGIN: 'off', FASTIFY_FORCE_CLOSE_CONNECTIONS: 'true' },
      });
      const conn = await openConnection(server.port);
      const inFlight = conn.request({ path: '/slow?ms=3000' });
      await sleep(300);
      server.kill('SIGTERM');
      const failure = await inFlight.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(AmbiguousFailure);
    });
  });
});
