import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isUnderTest, killAllChildren, repoRoot, type ServerHandle, sleep } from '@quiesce/test-support';
import { AmbiguousFailure, openConnection, runKeepAliveLoad } from '../harness/index.ts';
import {
  type InFlightOptions,
  type StartServer,
  answersEveryRoute,
  deadlineCutsLongRequest,
  inFlightCompletes,
  keepAliveLoopLosesNothing,
  notReadyDuringLameDuck,
  reusedSocketGetsConnectionClose,
  sigtermUnderLoad,
  starter,
} from './scenarios.ts';

// Node-only behaviour: skipped when QUIESCE_TEST_RUNTIMES leaves Node out.
const describeOnNode = describe.skipIf(!isUnderTest('node'));

type Framework = 'express' | 'fastify';

/** The framework examples in apps/ double as this suite's fixtures. */
const exampleApp = (framework: Framework): string => `${repoRoot()}/apps/example-${framework}/server.mjs`;

/** Starts a framework's example app on Node with `env`. */
const fixture = (framework: Framework, env: Readonly<Record<string, string>> = {}): StartServer =>
  starter({ runtime: 'node', script: exampleApp(framework), env });

// The framework adapters (@quiesce/express, @quiesce/fastify) checked from outside over real
// sockets with real signals: the example server's scenarios (scenarios.ts), once per framework, on
// fixture apps that use each framework's own middleware / hooks. Every scenario starts its own process.

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

interface FrameworkTarget {
  readonly name: string;
  readonly framework: Framework;
  readonly env: Readonly<Record<string, string>>;
  /** A line the fixture prints at start, proving which framework version runs. */
  readonly version: RegExp;
}

const frameworks: readonly FrameworkTarget[] = [
  { name: 'Express 5', framework: 'express', env: {}, version: /^express 5\./ },
  { name: 'Express 4', framework: 'express', env: { EXPRESS_MAJOR: '4' }, version: /^express 4\./ },
  { name: 'Fastify', framework: 'fastify', env: {}, version: /^fastify 5\./ },
];

/**
 * The shared in-flight scenario, and what the fixtures promise beyond it: the whole body arrives,
 * and the exit comes right after the response, far from the 20 s deadline.
 */
async function inFlightCompletesWhole(start: StartServer, options?: InFlightOptions): Promise<ServerHandle> {
  const { server, response, exit } = await inFlightCompletes(start, options);
  expect(response.body).toBe('slept 1500ms\n');
  expect(exit.afterMs).toBeLessThan(10_000);
  return server;
}

describeOnNode.each(frameworks)('$name', (target) => {
  const start = fixture(target.framework, target.env);

  it('prints its address, answers every route with x-pid and the app hook header, and is ready', async () => {
    const { server, root, ready } = await answersEveryRoute(start);
    expect(server.stdout.some((line) => target.version.test(line))).toBe(true);
    expect(root.body).toBe('hello from quiesce\n');
    expect(root.headers['x-app-hook']).toBe('seen');
    expect(ready.headers['x-app-hook']).toBe('seen');
  });

  it('in-flight request completes with Connection: close after SIGTERM, and the process exits 0', async () => {
    const server = await inFlightCompletesWhole(start, { besideIdleSocket: true });
    expect(server.stdout.join('\n')).toMatch(/quiesce: shutdown clean .*requests 1 completed, 0 cut/);
  });

  it('a request on a reused keep-alive socket during the lame duck gets 200 with Connection: close', async () => {
    const server = await reusedSocketGetsConnectionClose(start);
    expect((await server.exited).code).toBe(0);
  });

  it('/readyz answers 503 through the app middleware during the lame duck while new connections are accepted, refused after', async () => {
    const ready = await notReadyDuringLameDuck(start);
    expect(ready.body).toBe('shutting down\n');
    expect(ready.headers['x-app-hook']).toBe('seen'); // the app's own middleware / onRequest hook ran
  });

  it('a request longer than the deadline is cut at the deadline and the exit code is non-zero', async () => {
    await deadlineCutsLongRequest(start);
  });

  it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
    await keepAliveLoopLosesNothing(start);
  });
});

describeOnNode('Express: the server from app.listen() handed to the lifecycle', () => {
  const start = fixture('express', { EXPRESS_INPUT: 'server' });

  it('in-flight request completes with Connection: close after SIGTERM, and the process exits 0', async () => {
    await inFlightCompletesWhole(start);
  });

  it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
    await keepAliveLoopLosesNothing(start);
  });
});

describeOnNode('Fastify: the plugin with Fastify’s own close options', () => {
  describe.each([
    { option: 'forceCloseConnections: "idle"', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'idle' } },
    { option: 'forceCloseConnections: true', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'true' } },
    { option: 'forceCloseConnections: false', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'false' } },
  ])('$option', ({ env }) => {
    const start = fixture('fastify', env);

    it('in-flight request completes with Connection: close, the app onClose hook runs after it, exit 0', async () => {
      const out = (await inFlightCompletesWhole(start)).stdout.join('\n');
      expect(out).toMatch(/quiesce: shutdown clean .*requests 1 completed, 0 cut/);
      expect(out).toContain('fastify onClose hook ran');
      expect(out.indexOf('fastify onClose hook ran')).toBeLessThan(out.indexOf('quiesce: shutdown clean'));
    });

    it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
      await keepAliveLoopLosesNothing(start);
    });
  });

  describe('fastify.close() called by the app itself (QUIESCE_FASTIFY_CLOSE=direct)', () => {
    const start = fixture('fastify', { QUIESCE_FASTIFY_CLOSE: 'direct' });

    /**
     * SIGTERM with a 3 s lame duck, which makes the fixture call fastify.close() at once; then a
     * request, 300 ms after that call, on a keep-alive socket that served one before.
     */
    async function reuseSocketAfterClose(env: Readonly<Record<string, string>> = {}) {
      const server = await start({ QUIESCE_LAME_DUCK_MS: '3000', ...env });
      const conn = await openConnection(server.port);
      await conn.request({ path: '/' });
      server.kill('SIGTERM');
      await server.waitForLine(/calling fastify\.close\(\)/);
      await sleep(300);
      return { server, conn, reused: await conn.request({ path: '/' }) };
    }

    it('holds Fastify in preClose: the in-flight request completes with Connection: close, onClose runs, exit 0', async () => {
      const out = (await inFlightCompletesWhole(start)).stdout.join('\n');
      expect(out).toMatch(/quiesce: shutdown clean in \d+ms \(fastify\.close\(\)\).*requests 1 completed, 0 cut/);
      expect(out).toContain('fastify onClose hook ran');
    });

    it('with return503OnClosing (default), a reused keep-alive socket during the lame duck gets Fastify’s 503 with Connection: close', async () => {
      const { server, conn, reused } = await reuseSocketAfterClose();
      expect(reused.status).toBe(503);
      expect(reused.headers['connection']).toBe('close');
      expect(reused.headers['x-app-hook']).toBeUndefined(); // Fastify answers before any hook runs
      expect(await conn.waitForClose()).toBe('fin');
      expect((await server.exited).code).toBe(0);
    });

    it('with return503OnClosing: false, the same request is served: 200 with Connection: close', async () => {
      const { server, reused } = await reuseSocketAfterClose({ FASTIFY_RETURN_503_ON_CLOSING: 'false' });
      expect(reused.status).toBe(200);
      expect(reused.headers['connection']).toBe('close');
      expect((await server.exited).code).toBe(0);
    });

    it('20 keep-alive clients in a tight loop lose not one request (those after close() get 503)', async () => {
      await keepAliveLoopLosesNothing(start);
    });
  });

  describe('baseline: Fastify 5.12.8 without the plugin (why it exists)', () => {
    const start = fixture('fastify', { QUIESCE_FASTIFY_PLUGIN: 'off' });

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
      const { totals } = await sigtermUnderLoad(await start(), runKeepAliveLoad, { maxDurationMs: 10_000, maxRequests: 200_000 });
      expect(totals.ok).toBeGreaterThan(100);
      expect(totals.ambiguous).toBeGreaterThan(0); // 20 of 20 clients in each of 6 runs while writing this
    });

    it('with forceCloseConnections: true, close() cuts the request in flight', async () => {
      const server = await start({ FASTIFY_FORCE_CLOSE_CONNECTIONS: 'true' });
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
