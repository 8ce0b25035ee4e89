import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { capabilities, killAllChildren, runtimesUnderTest, type ServerHandle, sleep, startServer } from '@quiesce/test-support';
import { fixturePath, openEventStream, openWebSocket } from '../harness/index.ts';

// What happens to WebSockets and Server-Sent Events without Quiesce, on each runtime: the baseline
// for long-lived.test.ts, and pins of the runtime behaviour the adapters work around. The fixture
// (src/fixtures/long-lived-bare-server.mjs) only calls the runtime's own graceful stop on SIGTERM:
// Node `server.close()`, Bun `server.stop(false)`, Deno `server.shutdown()`.

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

/** How long the baseline watches after SIGTERM: far longer than any graceful stop needs here. */
const WATCH_MS = 2_000;

const start = (runtime: Parameters<typeof capabilities>[0]): Promise<ServerHandle> =>
  startServer({ runtime, script: fixturePath('long-lived-bare-server.mjs') });

describe.each(runtimesUnderTest())('baseline: long-lived connections and the bare runtime\'s own stop on %s', (runtime) => {
  it('the stop never finishes while a WebSocket and an event stream are open: the stream is never ended, and only Deno tells the WebSocket (1001, even for a restart)', async () => {
    const server = await start(runtime);
    const ws = await openWebSocket(server.port);
    const stream = await openEventStream(server.port);
    expect(await stream.waitForEvent((event) => event.data === 'tick 2')).not.toBe('timeout');
    server.kill('SIGTERM');
    await server.waitForLine(/^stop called$/);
    const close = await ws.waitForClose(WATCH_MS);
    const stopped = server.lines.includes('stopped');
    console.log(
      `[${runtime} bare stop] websocket: ${close === 'timeout' ? 'no Close frame' : `Close ${close.code} "${close.reason}"`}; ` +
        `event stream: ${stream.complete ? 'ended' : `not ended, ${stream.events.length} ticks`}; stop ${stopped ? 'resolved' : `still pending ${WATCH_MS} ms after SIGTERM`}`,
    );
    expect(stream.complete).toBe(false);
    expect(stopped).toBe(false);
    expect(server.exitStatus).toBeUndefined();
    if (runtime === 'deno') {
      // Deno's shutdown() closes upgraded sockets itself, always with 1001: a restart looks like a shutdown.
      expect(close).toMatchObject({ code: 1001, reason: 'Server shutting down' });
    } else {
      // Node's server.close() leaves upgraded sockets alone; Bun's stop(false) waits for them
      // forever without closing them (oven-sh/bun#34961, Bun 1.4.5).
      expect(close).toBe('timeout');
    }
  });

  const awaitsPeer = capabilities(runtime).webSocketCloseAwaitsPeer;
  it(`pins: the runtime's WebSocket close ${awaitsPeer ? 'waits for the peer\'s Close before the FIN' : 'sends the FIN right after the Close frame'} (capability webSocketCloseAwaitsPeer)`, async () => {
    const server = await start(runtime);
    const ws = await openWebSocket(server.port, { answerClose: false });
    server.kill('SIGUSR2');
    expect(await ws.waitForClose()).toMatchObject({ code: 1001 });
    const ended = await ws.waitForEnd(500);
    if (awaitsPeer) expect(ended).toBe('timeout');
    else expect(ended).toBe('fin');
    await sleep(0);
  });
});
