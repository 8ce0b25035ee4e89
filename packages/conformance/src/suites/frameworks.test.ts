import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  capabilities,
  killAllChildren,
  repoRoot,
  type Runtime,
  runtimeCommand,
  runtimesUnderTest,
  type ServerHandle,
  sleep,
  startServer,
} from '@quiesce/test-support';
import { AmbiguousFailure, fixturePath, openConnection, runKeepAliveLoad } from '../harness/index.ts';
import {
  type InFlightOptions,
  type StartServer,
  answersEveryRoute,
  deadlineCutsLongRequest,
  inFlightCompletes,
  keepAliveLoopLosesNothing,
  notReadyDuringLameDuck,
  preconnectClosedWithFin,
  reusedSocketGetsConnectionClose,
  sigtermUnderLoad,
  starter,
} from './scenarios.ts';

type Framework = 'express' | 'fastify';

/** The framework examples in apps/ double as this suite's fixtures. */
const exampleApp = (framework: Framework): string => `${repoRoot()}/apps/example-${framework}/server.mjs`;

/** Starts a framework's example app on `runtime` with `env`. */
const fixture = (runtime: Runtime, framework: Framework, env: Readonly<Record<string, string>> = {}): StartServer =>
  starter({ runtime, script: exampleApp(framework), env });

// The framework adapters (@quiesce/express, @quiesce/fastify) checked from outside over real
// sockets with real signals: the example server's scenarios (scenarios.ts), once per framework and
// runtime (Node; Bun's node:http, which is no net.Server; Deno's node:http), on fixture apps that use
// each framework's own middleware / hooks. Every scenario starts its own process.

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

describe.each(runtimesUnderTest())('on %s', (runtime) => {
  describe.each(frameworks)('$name', (target) => {
    const start = fixture(runtime, target.framework, target.env);

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

    it('a keep-alive client that sends its next request 100 ms after SIGTERM (no lame duck) gets 200 with Connection: close, not a closed socket', async () => {
      // Bun's node:http closes idle sockets with its listener: the adapter must hold that close until
      // the socket has been idle for the grace (250 ms), counting from the response before SIGTERM.
      const server = await reusedSocketGetsConnectionClose(start, { lameDuckMs: 0, reuseAfterMs: 100 });
      expect((await server.exited).code).toBe(0);
    });

    it('/readyz answers 503 through the app middleware during the lame duck while new connections are accepted, refused after', async () => {
      const ready = await notReadyDuringLameDuck(start);
      expect(ready.body).toBe('shutting down\n');
      expect(ready.headers['x-app-hook']).toBe('seen'); // the app's own middleware / onRequest hook ran
    });

    // Bun's node:http is served by Bun's own engine, which sets TCP_DEFER_ACCEPT like Bun.serve
    // (oven-sh/bun#28617): a connection that never sends a byte is never accepted (pinned below).
    const preconnectTest = capabilities(runtime).seesSilentConnections ? it : it.skip;
    preconnectTest(
      `a preconnected socket that never sent a request is closed with FIN, not reset${capabilities(runtime).seesSilentConnections ? '' : ` (skipped on ${runtime}: its server never accepts a connection before its first byte, so neither it nor the drain can close it)`}`,
      async () => {
        const server = await preconnectClosedWithFin(start);
        expect(server.stdout.join('\n')).toMatch(/sockets 0 idle-closed, 1 preconnects, 0 force-closed/);
      },
    );

    it('a request longer than the deadline is cut at the deadline and the exit code is non-zero', async () => {
      await deadlineCutsLongRequest(start);
    });

    it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
      await keepAliveLoopLosesNothing(start);
    });
  });

  describe('Express: the server from app.listen() handed to the lifecycle', () => {
    const start = fixture(runtime, 'express', { EXPRESS_INPUT: 'server' });

    it('in-flight request completes with Connection: close after SIGTERM, and the process exits 0', async () => {
      await inFlightCompletesWhole(start);
    });

    it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
      await keepAliveLoopLosesNothing(start);
    });
  });

  describe('Fastify: the plugin with Fastify’s own close options', () => {
    describe.each([
      { option: 'forceCloseConnections: "idle"', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'idle' } },
      { option: 'forceCloseConnections: true', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'true' } },
      { option: 'forceCloseConnections: false', env: { FASTIFY_FORCE_CLOSE_CONNECTIONS: 'false' } },
    ])('$option', ({ env }) => {
      const start = fixture(runtime, 'fastify', env);

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
      const start = fixture(runtime, 'fastify', { QUIESCE_FASTIFY_CLOSE: 'direct' });

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
  });
});

describe('Fastify on node, baseline: Fastify 5.12.8 without the plugin (why it exists)', () => {
  const start = fixture('node', 'fastify', { QUIESCE_FASTIFY_PLUGIN: 'off' });

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

describe('tcpKeepAliveMs, which the sockets of Bun’s node:http ignore', () => {
  it.each([
    { runtime: 'bun', expected: /^(express|fastify) refused (Express|FastifyQuiesce)OptionError QUIESCE_(EXPRESS|FASTIFY)_INVALID_OPTION tcpKeepAliveMs: Invalid tcpKeepAliveMs: 30000\. Expected false on Bun's node:http Server/ },
    { runtime: 'node', expected: /^(express|fastify) accepted$/ },
    { runtime: 'deno', expected: /^(express|fastify) accepted$/ },
  ] as const)('$runtime: Express and Fastify answer it at creation, before anything listens (refused on Bun, naming the option)', ({ runtime, expected }) => {
    const { command, args, env } = runtimeCommand(runtime, fixturePath('framework-keepalive-option.mjs'));
    const result = spawnSync(command, [...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
    const lines = result.stdout.trim().split('\n');
    expect(lines.map((line) => line.split(' ')[0])).toEqual(['express', 'fastify']);
    for (const line of lines) expect(line).toMatch(expected);
    expect(result.status).toBe(0);
  });
});

// What the Node adapter relies on in each runtime's node:http, measured on a bare server without
// Quiesce (fixtures/node-http-facts.mjs). Red here means the runtime changed: revisit
// packages/node/src/internal/bun-http-listener.ts (Bun) or the net.Server path (Node, Deno).
describe('pins: the node:http the Node adapter drains, on each runtime', () => {
  const startFacts = (runtime: Runtime, env: Readonly<Record<string, string>> = {}) =>
    startServer({ runtime, script: fixturePath('node-http-facts.mjs'), env });
  const factsOf = async (server: ServerHandle) =>
    JSON.parse((await server.waitForLine(/^facts /)).slice('facts '.length)) as { netServer: boolean; closeIdleConnections: string };

  /** Whether the kernel runs a keepalive timer on the server's end of the connection from `clientPort` (Linux). */
  const keepaliveTimerRuns = (serverPort: number, clientPort: number): boolean => {
    const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address rem_address st tx_queue:rx_queue tr:tm->when
      if (fields[1]?.endsWith(`:${hex(serverPort)}`) && fields[2]?.endsWith(`:${hex(clientPort)}`)) return fields[5]!.startsWith('02:');
    }
    throw new Error(`no server-side socket ${serverPort} <- ${clientPort} in /proc/net/tcp`);
  };

  it.each([
    { runtime: 'bun', netServer: false },
    { runtime: 'node', netServer: true },
    { runtime: 'deno', netServer: true },
  ] as const)(
    'pins $runtime: net.Server $netServer, closeIdleConnections() present; the socket of a connection is req.socket, holds its first response as _httpMessage and reports its close through its own emit; bytesRead counts only where it is a net.Server (Bun 1.4: always 0)',
    async ({ runtime, netServer }) => {
      const server = await startFacts(runtime);
      expect(await factsOf(server)).toEqual({ netServer, closeIdleConnections: 'function' });
      const conn = await openConnection(server.port);
      const first = await conn.request({ path: '/' });
      // (Deno 2.9 leaves the first response there for the next ones: the adapter then finds them in its own list.)
      expect(first.headers['x-http-message']).toBe('true');
      const second = await conn.request({ path: '/' });
      expect(second.headers['x-connection-socket']).toBe('true');
      if (netServer) expect(Number(second.headers['x-bytes-read'])).toBeGreaterThan(0);
      else expect(second.headers['x-bytes-read']).toBe('0');
      conn.destroy();
      await server.waitForLine(/^socket close seen by its own emit$/);
    },
  );

  it('pins Bun 1.4: server.close() refuses new connections at once, closes an idle keep-alive socket with FIN at once and lets a busy one finish (why the adapter holds responses before it)', async () => {
    const server = await startFacts('bun');
    const idle = await openConnection(server.port);
    await idle.request({ path: '/' });
    const busy = await openConnection(server.port);
    const answer = busy.request({ path: '/slow?ms=800' });
    await sleep(100);
    server.kill('SIGTERM');
    await server.waitForLine(/^closed$/);
    await expect(openConnection(server.port)).rejects.toMatchObject({ errno: 'ECONNREFUSED' });
    expect(await idle.waitForClose(500)).toBe('fin');
    expect((await answer).status).toBe(200);
  });

  it('pins Bun 1.4: closeIdleConnections() leaves open a socket whose request head is still arriving (that request is then answered), and still closes idle sockets after close() (how the drain closes them)', async () => {
    const server = await startFacts('bun');
    const partial = await openConnection(server.port);
    partial.send('GET / HTTP/1.1\r\nHo');
    const idle = await openConnection(server.port);
    await idle.request({ path: '/' });
    await sleep(100);
    server.kill('SIGUSR2');
    await server.waitForLine(/^swept$/);
    expect(await idle.waitForClose(500)).toBe('fin');
    partial.send('st: test\r\n\r\n');
    expect((await partial.readResponse()).status).toBe(200);
    // After close(): a socket that was busy then and has answered keep-alive since is closed by a sweep.
    const busy = await openConnection(server.port);
    const answer = busy.request({ path: '/slow?ms=300' });
    await sleep(100);
    server.kill('SIGTERM');
    await server.waitForLine(/^closed$/);
    expect((await answer).keepAlive).toBe(true);
    expect(await busy.waitForClose(300)).toBe('timeout');
    const from = server.lines.length;
    server.kill('SIGUSR2');
    await server.waitForLine(/^swept$/, 5_000, from);
    expect(await busy.waitForClose(500)).toBe('fin');
  });

  it.each(runtimesUnderTest())('pins %s: a response with Connection: close set by the handler (shouldKeepAlive false) closes its socket with FIN', async (runtime) => {
    const server = await startFacts(runtime);
    const conn = await openConnection(server.port);
    const response = await conn.request({ path: '/close-connection' });
    expect(response.headers['connection']).toBe('close');
    expect(await conn.waitForClose(1_000)).toBe('fin');
  });

  it.runIf(process.platform === 'linux').each([
    { runtime: 'bun', runs: false },
    { runtime: 'node', runs: true },
    { runtime: 'deno', runs: true },
  ] as const)(
    'pins $runtime: setKeepAlive() on a node:http socket starts a keepalive timer in the kernel: $runs (Bun 1.4: never, so the adapter refuses tcpKeepAliveMs there)',
    async ({ runtime, runs }) => {
      const server = await startFacts(runtime, { SET_KEEPALIVE: '1' });
      const conn = await openConnection(server.port);
      await conn.request({ path: '/' });
      expect(keepaliveTimerRuns(server.port, conn.localPort)).toBe(runs);
    },
  );

  it('pins Bun 1.4: a connection that has sent nothing yet emits no connection event (TCP_DEFER_ACCEPT), so the drain neither counts nor closes it; close() leaves it without FIN or RST, and a request sent on it later is reset', async () => {
    const server = await startFacts('bun');
    const preconnect = await openConnection(server.port);
    await sleep(100);
    const conn = await openConnection(server.port);
    expect((await conn.request({ path: '/' })).headers['x-connections']).toBe('1');
    server.kill('SIGTERM');
    await server.waitForLine(/^closed$/);
    expect(await preconnect.waitForClose(300)).toBe('timeout'); // nothing tells the client
    await expect(preconnect.request({ path: '/' })).rejects.toMatchObject({ kind: 'reset' });
  });

  it.each(['node', 'deno'] as const)(
    'pins %s: net.Server#close on its node:http Server closes the listener alone: an idle keep-alive socket stays open and its next request is answered',
    async (runtime) => {
      const server = await startFacts(runtime, { CLOSE_WITH: 'net' });
      const idle = await openConnection(server.port);
      await idle.request({ path: '/' });
      server.kill('SIGTERM');
      await server.waitForLine(/^closed$/);
      await expect(openConnection(server.port)).rejects.toMatchObject({ errno: 'ECONNREFUSED' });
      expect(await idle.waitForClose(300)).toBe('timeout');
      expect((await idle.request({ path: '/' })).status).toBe(200);
    },
  );
});
