import { expect } from 'vitest';
import { type Runtime, type ServerExit, type ServerHandle, sleep, startServer } from '@quiesce/test-support';
import { AmbiguousFailure, assertClientKeptUp, type LoadOptions, type LoadResult, type RawResponse, openConnection, runKeepAliveLoad } from '../harness/index.ts';

// The scenarios that the example server (example-server.test.ts) and the framework fixtures
// (frameworks.test.ts) share, over real sockets with real signals. Each one starts its own process,
// asserts what every target promises, and returns what it saw, so that a suite can add what only
// its target promises (a header its middleware sets, a body, a bound on the exit).

/** Starts one server process of a target; `env` is laid over the target's own environment. */
export type StartServer = (env?: Readonly<Record<string, string>>) => Promise<ServerHandle>;

/** A server script, the runtime that runs it, and the environment it always gets. */
export interface StartTarget {
  readonly runtime: Runtime;
  readonly script: string;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * How the scenarios start a target: a 20 s shutdown deadline unless the target or the scenario
 * sets another, so that an exit far sooner shows the server did not wait for the deadline.
 *
 * @example
 * ```ts
 * const start = starter({ runtime: 'node', script: 'apps/example/dist/server.js' });
 * it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', () => keepAliveLoopLosesNothing(start));
 * ```
 */
export function starter(target: StartTarget): StartServer {
  return (env = {}) =>
    startServer({ runtime: target.runtime, script: target.script, env: { QUIESCE_DEADLINE_MS: '20000', ...target.env, ...env } });
}

/** What {@link answersEveryRoute} saw. */
export interface RoutesSeen {
  readonly server: ServerHandle;
  /** The answer to `/`. */
  readonly root: RawResponse;
  /** The answer to `/readyz`. */
  readonly ready: RawResponse;
}

/**
 * On one keep-alive connection: `/` answers 200 with the server's pid in `x-pid`, `/healthz` and
 * `/readyz` 200, `/slow?ms=50` `slept 50ms`, and an unknown path 404.
 */
export async function answersEveryRoute(start: StartServer): Promise<RoutesSeen> {
  const server = await start();
  const conn = await openConnection(server.port);
  const root = await conn.request({ path: '/' });
  expect(root.status).toBe(200);
  expect(root.headers['x-pid']).toBe(String(server.pid));
  expect((await conn.request({ path: '/healthz' })).status).toBe(200);
  const ready = await conn.request({ path: '/readyz' });
  expect(ready.status).toBe(200);
  expect((await conn.request({ path: '/slow?ms=50' })).body).toBe('slept 50ms\n');
  expect((await conn.request({ path: '/nope' })).status).toBe(404);
  conn.destroy();
  return { server, root, ready };
}

/** Options for {@link inFlightCompletes}. */
export interface InFlightOptions {
  /** Also hold an idle keep-alive socket open: it must not hold the exit, and is closed with FIN. */
  readonly besideIdleSocket?: boolean;
}

/** What {@link inFlightCompletes} saw. */
export interface InFlightSeen {
  readonly server: ServerHandle;
  /** The answer to the request that was in flight at SIGTERM. */
  readonly response: RawResponse;
  readonly exit: ServerExit;
  /** Milliseconds from that answer to the exit of the process. */
  readonly exitedAfterAnswerMs: number;
}

/**
 * SIGTERM 300 ms into a 1.5 s request: the request completes with 200 and Connection: close, the
 * server ends its socket with FIN, and the process exits 0.
 */
export async function inFlightCompletes(start: StartServer, options: InFlightOptions = {}): Promise<InFlightSeen> {
  const server = await start();
  const idle = options.besideIdleSocket ? await openConnection(server.port) : undefined;
  await idle?.request({ path: '/' });
  const conn = await openConnection(server.port);
  const inFlight = conn.request({ path: '/slow?ms=1500' });
  await sleep(300);
  server.kill('SIGTERM');
  const response = await inFlight;
  const answeredAt = Date.now();
  expect(response.status).toBe(200);
  expect(response.headers['connection']).toBe('close');
  expect(await conn.waitForClose()).toBe('fin');
  const exit = await server.exited;
  const exitedAfterAnswerMs = Date.now() - answeredAt;
  expect(exit.code).toBe(0);
  if (idle) expect(await idle.waitForClose()).toBe('fin');
  return { server, response, exit, exitedAfterAnswerMs };
}

/** Options for {@link reusedSocketGetsConnectionClose}. */
export interface ReuseOptions {
  /** The lame duck the server gets. Default 3000. */
  readonly lameDuckMs?: number;
  /** How long after SIGTERM the keep-alive socket is reused. Default 300. */
  readonly reuseAfterMs?: number;
}

/**
 * SIGTERM with a 3 s lame duck, then a request 300 ms later on a keep-alive socket that served one
 * before: it gets 200 with Connection: close, and the server ends the socket with FIN.
 */
export async function reusedSocketGetsConnectionClose(start: StartServer, options: ReuseOptions = {}): Promise<ServerHandle> {
  const { lameDuckMs = 3_000, reuseAfterMs = 300 } = options;
  const server = await start({ QUIESCE_LAME_DUCK_MS: String(lameDuckMs) });
  const conn = await openConnection(server.port);
  expect((await conn.request({ path: '/' })).headers['connection']).not.toBe('close');
  server.kill('SIGTERM');
  await sleep(reuseAfterMs);
  const reused = await conn.request({ path: '/' });
  expect(reused.status).toBe(200);
  expect(reused.headers['connection']).toBe('close');
  expect(await conn.waitForClose()).toBe('fin');
  return server;
}

/**
 * A connection that never sent a byte, open when SIGTERM comes: the server closes it with FIN (after
 * the preconnect grace), counts it as a preconnect, and exits 0.
 */
export async function preconnectClosedWithFin(start: StartServer): Promise<ServerHandle> {
  const server = await start();
  const preconnect = await openConnection(server.port);
  await sleep(100);
  server.kill('SIGTERM');
  expect(await preconnect.waitForClose()).toBe('fin');
  expect((await server.exited).code).toBe(0);
  return server;
}

/**
 * SIGTERM with a 1.5 s lame duck: 300 ms in, a new connection is still accepted, `/readyz` answers
 * 503 with Connection: close and `/healthz` 200; after the lame duck the port refuses connections,
 * and the process exits 0. Returns the 503 answer.
 */
export async function notReadyDuringLameDuck(start: StartServer): Promise<RawResponse> {
  const server = await start({ QUIESCE_LAME_DUCK_MS: '1500' });
  server.kill('SIGTERM');
  await sleep(300);
  const fresh = await openConnection(server.port);
  const ready = await fresh.request({ path: '/readyz' });
  expect(ready.status).toBe(503);
  expect(ready.headers['connection']).toBe('close');
  const healthz = await (await openConnection(server.port)).request({ path: '/healthz' });
  expect(healthz.status).toBe(200);
  await sleep(1_700);
  await expect(openConnection(server.port)).rejects.toMatchObject({ errno: 'ECONNREFUSED' });
  expect((await server.exited).code).toBe(0);
  return ready;
}

/**
 * A 15 s request under a 1 s deadline, SIGTERM 200 ms in: the request is cut (an ambiguous failure
 * for the client), the process exits 1 well before the request would have ended, and its report
 * line says forced, 0 completed, 1 cut.
 */
export async function deadlineCutsLongRequest(start: StartServer): Promise<void> {
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
}

/**
 * 20 keep-alive clients in a tight loop, SIGTERM 500 ms in: not one request lost (ambiguous) or
 * failed, more than 100 answered, at least one answer tells its client to reconnect, and exit 0.
 */
export async function keepAliveLoopLosesNothing(start: StartServer): Promise<void> {
  const server = await start();
  const { totals } = expectNothingLost(await sigtermUnderLoad(server, runKeepAliveLoad, { maxDurationMs: 10_000, maxRequests: 200_000 }));
  expect(totals.ok).toBeGreaterThan(100);
  expect(totals.connectionCloseResponses).toBeGreaterThanOrEqual(1);
  expect((await server.exited).code).toBe(0);
}

/**
 * Not one request of `result` lost (ambiguous) or failed (error); returns `result`. A run that lost
 * some while its own client stalled is set aside first ({@link assertClientKeptUp}: retried).
 */
export function expectNothingLost(result: LoadResult): LoadResult {
  assertClientKeptUp(result);
  expect(result.failures.filter((f) => f.outcome === 'ambiguous')).toEqual([]);
  expect(result.totals.ambiguous).toBe(0);
  expect(result.totals.error).toBe(0);
  return result;
}

/** How long, and for how many requests at most, {@link sigtermUnderLoad} runs its load. */
export interface LoadBounds {
  readonly maxDurationMs: number;
  readonly maxRequests: number;
}

/**
 * Runs 20 clients of `run` (`runKeepAliveLoad` or `runFreshConnectionLoad`) against `server` and
 * sends it SIGTERM 500 ms in; resolves with the load's result once the server has exited or the
 * bounds are reached.
 */
export async function sigtermUnderLoad(
  server: ServerHandle,
  run: (options: LoadOptions) => Promise<LoadResult>,
  bounds: LoadBounds,
): Promise<LoadResult> {
  const load = run({ port: server.port, clients: 20, until: server.exited, ...bounds });
  await sleep(500);
  server.kill('SIGTERM');
  return load;
}
