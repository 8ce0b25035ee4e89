import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { capabilities, killAllChildren, sleep } from '@quiesce/test-support';
import { AmbiguousFailure, openConnection, runFreshConnectionLoad, runKeepAliveLoad } from '../harness/index.ts';
import {
  answersEveryRoute,
  deadlineCutsLongRequest,
  expectNothingLost,
  inFlightCompletes,
  keepAliveLoopLosesNothing,
  notReadyDuringLameDuck,
  preconnectClosedWithFin,
  reusedSocketGetsConnectionClose,
  sigtermUnderLoad,
  starter,
} from './scenarios.ts';
import { exampleTargets } from './targets.ts';

// The example server's public contract, checked from outside over real sockets with real signals,
// once per runtime. Every scenario starts its own process; those the framework fixtures share
// are in scenarios.ts.

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

describe.each(exampleTargets)('example server on $label', ({ runtime, script }) => {
  const start = starter({ runtime, script });
  const can = capabilities(runtime);

  it('prints its address, answers every route with x-pid, and is ready', async () => {
    await answersEveryRoute(start);
  });

  it('in-flight request completes with Connection: close after SIGTERM, and the process exits 0 right after it', async () => {
    const { server, exitedAfterAnswerMs } = await inFlightCompletes(start, { besideIdleSocket: true });
    // Not at the 20 s deadline, not at Node's 5 s keep-alive timeout: right after the response.
    expect(exitedAfterAnswerMs).toBeLessThan(2_000);
    expect(server.stdout.join('\n')).toMatch(/quiesce: shutdown clean .*requests 1 completed, 0 cut/);
  });

  it('a request on a reused keep-alive socket during the lame duck gets 200 with Connection: close', async () => {
    await reusedSocketGetsConnectionClose(start);
  });

  it('/readyz answers 503 during the lame duck while new connections are still accepted, and they are refused after it', async () => {
    await notReadyDuringLameDuck(start);
  });

  it('idle keep-alive sockets are closed with FIN, not reset', async () => {
    const server = await start();
    const idle = await openConnection(server.port);
    await idle.request({ path: '/' });
    server.kill('SIGTERM');
    expect(await idle.waitForClose()).toBe('fin');
    expect((await server.exited).code).toBe(0);
    // Only Node hands sockets to the tracker; Bun.serve and Deno.serve close idle sockets themselves.
    if (can.reportsSocketCounts) expect(server.stdout.join('\n')).toMatch(/sockets 1 idle-closed, 0 preconnects, 0 force-closed/);
  });

  // Bun.serve sets TCP_DEFER_ACCEPT (oven-sh/bun#28617): a connection that never sends a byte is
  // never accepted by Bun, so Bun can neither close it with FIN nor reset it; it stays in the
  // kernel's queue until the listener closes. Verified with `ss` (SYN-RECV on the server side).
  const preconnectTest = can.seesSilentConnections ? it : it.skip;
  preconnectTest(
    `preconnected sockets that never sent a request are closed with FIN, not reset${can.seesSilentConnections ? '' : ` (skipped on ${runtime}: TCP_DEFER_ACCEPT keeps silent connections away from Bun)`}`,
    async () => {
      const server = await preconnectClosedWithFin(start);
      if (can.reportsSocketCounts) expect(server.stdout.join('\n')).toMatch(/sockets 0 idle-closed, 1 preconnects, 0 force-closed/);
    },
  );

  it('a request longer than the deadline is cut at the deadline and the exit code is non-zero', async () => {
    await deadlineCutsLongRequest(start);
  });

  it('a second signal forces an immediate exit with 128 + n', async () => {
    const server = await start();
    const conn = await openConnection(server.port);
    const slow = conn.request({ path: '/slow?ms=15000', timeoutMs: 10_000 }).then(
      () => 'answered',
      (error: unknown) => error,
    );
    await sleep(200);
    server.kill('SIGTERM');
    await sleep(300);
    await expect(openConnection(server.port)).rejects.toMatchObject({ errno: 'ECONNREFUSED' });
    server.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(143);
    expect(exit.afterMs).toBeLessThan(5_000); // far from the 20 s deadline: the second signal forced it
    expect(await slow).toBeInstanceOf(AmbiguousFailure); // the in-flight request was cut, not answered
  });

  it.each(['SIGINT', 'SIGHUP'] as const)('%s starts the same graceful shutdown (exit 0)', async (signal) => {
    const server = await start();
    server.kill(signal);
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(server.stdout.join('\n')).toContain(`quiesce: shutdown clean`);
    expect(server.stdout.join('\n')).toContain(`(${signal})`);
  });

  it('20 keep-alive clients in a tight loop lose not one request when SIGTERM arrives', async () => {
    await keepAliveLoopLosesNothing(start);
  });

  it('20 keep-alive clients lose not one request across a lame duck, while every response tells them to reconnect', async () => {
    const server = await start({ QUIESCE_LAME_DUCK_MS: '400' });
    const { totals } = expectNothingLost(await sigtermUnderLoad(server, runKeepAliveLoad, { maxDurationMs: 8_000, maxRequests: 200_000 }));
    expect(totals.connectionCloseResponses).toBeGreaterThan(20); // clients reconnected during the lame duck
    expect((await server.exited).code).toBe(0);
  });

  it('20 fresh-connection clients lose not one request across a lame duck', async () => {
    const server = await start({ QUIESCE_LAME_DUCK_MS: '400' });
    const { totals } = expectNothingLost(await sigtermUnderLoad(server, runFreshConnectionLoad, { maxDurationMs: 8_000, maxRequests: 100_000 }));
    expect(totals.ok).toBeGreaterThan(100);
    expect((await server.exited).code).toBe(0);
  });

  it('a second instance on a taken port exits non-zero within seconds, naming the port and the holder\'s pid', async () => {
    const first = await start();
    const started = Date.now();
    const failure = await start({ PORT: String(first.port) }).then(
      () => undefined,
      (error: unknown) => error as { stderr?: string[]; reason?: string },
    );
    expect(failure?.reason).toBe('exited');
    const message = (failure?.stderr ?? []).join('\n');
    expect(message).toContain(String(first.port));
    expect(message).toContain(`pid ${first.pid}`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses an invalid environment at start with a message naming the variable', async () => {
    for (const [variable, value] of [
      ['PORT', 'abc'],
      ['QUIESCE_DEADLINE_MS', '-5'],
      ['QUIESCE_LAME_DUCK_MS', 'soon'],
    ] as const) {
      const failure = await start({ [variable]: value }).then(
        () => undefined,
        (error: unknown) => error as { stderr?: string[] },
      );
      expect(failure).toBeDefined();
      expect((failure?.stderr ?? []).join('\n')).toContain(variable);
    }
  });
});
