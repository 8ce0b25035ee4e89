import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  capabilities,
  isUnderTest,
  killAllChildren,
  runtimeCommand,
  type ServerHandle,
  sleep,
  startServer,
  until,
} from '@quiesce/test-support';
import { ConnectionClosedError, AmbiguousFailure, fixturePath, openConnection, openEventStream, openWebSocket } from '../harness/index.ts';
import { starter } from './scenarios.ts';
import { exampleTargets } from './targets.ts';

// Long-lived connections of the example (`GET /ws`, a WebSocket echo; `GET /events`, Server-Sent
// Events) through a shutdown, on every runtime, read off the socket by hand: the frames and Close
// codes a client gets, how each stream ends (terminator, FIN or RST), and the report line.

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

/** Resolves once `/readyz` answers 503: the lame duck has begun. Bounded. */
async function lameDuckBegun(server: ServerHandle): Promise<void> {
  await until(
    async () => {
      const connection = await openConnection(server.port).catch(() => undefined);
      if (!connection) return false;
      try {
        return (await connection.request({ path: '/readyz', headers: { Connection: 'close' }, timeoutMs: 2_000 })).status === 503;
      } catch {
        return false;
      } finally {
        connection.destroy();
      }
    },
    10_000,
    '/readyz answering 503',
  );
}

const reportLine = (server: ServerHandle): string => server.stdout.find((line) => line.startsWith('quiesce: shutdown')) ?? '';

describe.each(exampleTargets)('long-lived connections of the example on $label', ({ runtime, script }) => {
  const start = starter({ runtime, script });
  const can = capabilities(runtime);

  it('a WebSocket on /ws echoes through the lame duck and gets 1001 (Going Away) when the drain starts, then FIN; the process exits 0', async () => {
    const server = await start({ QUIESCE_LAME_DUCK_MS: '1500' });
    const ws = await openWebSocket(server.port);
    ws.sendText('before');
    expect(await ws.nextText()).toBe('before');
    server.kill('SIGTERM');
    await lameDuckBegun(server);
    ws.sendText('during the lame duck');
    expect(await ws.nextText()).toBe('during the lame duck');
    expect(ws.serverClose).toBeUndefined(); // not closed before the drain starts
    const close = await ws.waitForClose(10_000);
    expect(close).toMatchObject({ code: 1001 });
    expect(await ws.waitForEnd()).toBe('fin');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.afterMs).toBeLessThan(10_000); // far from the 20 s deadline
    expect(reportLine(server)).toMatch(/websockets 1 closed, 0 cut/);
  });

  it('/events ticks through the lame duck, then sends event: shutdown and ends properly (chunked terminator, then FIN); the process exits 0', async () => {
    const server = await start({ QUIESCE_LAME_DUCK_MS: '1500' });
    const stream = await openEventStream(server.port);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(await stream.waitForEvent((event) => event.data === 'tick 2')).not.toBe('timeout');
    server.kill('SIGTERM');
    await lameDuckBegun(server);
    const ticksAtLameDuck = stream.events.length;
    expect(await stream.waitForEvent((event) => event.data === `tick ${ticksAtLameDuck + 2}`)).not.toBe('timeout');
    expect(stream.events.some((event) => event.event === 'shutdown')).toBe(false);
    expect(await stream.waitForEvent((event) => event.event === 'shutdown', 10_000)).toMatchObject({ data: 'shutdown' });
    expect(await stream.waitForEnd()).toBe('fin');
    expect(stream.complete).toBe(true);
    expect(stream.events.at(-1)?.event).toBe('shutdown');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.afterMs).toBeLessThan(10_000);
    if (can.countsStreamsStartedBeforeShutdown) expect(reportLine(server)).toMatch(/streams 1 ended, 0 cut/);
  });

  it('a WebSocket peer that never answers the Close frame is ended with FIN by the close timeout, not cut; exit 0', async () => {
    const server = await start();
    const ws = await openWebSocket(server.port, { answerClose: false });
    server.kill('SIGTERM');
    expect(await ws.waitForClose(10_000)).toMatchObject({ code: 1001 });
    expect(await ws.waitForEnd(10_000)).toBe('fin');
    expect((await server.exited).code).toBe(0);
    expect(reportLine(server)).toMatch(/websockets 1 closed, 0 cut/);
  });

  const cutTest = can.webSocketCloseAwaitsPeer ? it : it.skip;
  cutTest(
    `a WebSocket still closing at the deadline is cut and counted, and the exit code says so${can.webSocketCloseAwaitsPeer ? '' : ` (skipped on ${runtime}: its close() sends the FIN with the Close frame, so none is left to cut)`}`,
    async () => {
      // The deadline (600 ms) comes before the close timeout (1 s).
      const server = await start({ QUIESCE_DEADLINE_MS: '600' });
      const ws = await openWebSocket(server.port, { answerClose: false });
      server.kill('SIGTERM');
      expect(await ws.waitForClose(10_000)).toMatchObject({ code: 1001 });
      const exit = await server.exited;
      expect(exit.code).toBe(1);
      expect(reportLine(server)).toMatch(/shutdown forced .*websockets 0 closed, 1 cut/);
      expect(await ws.waitForEnd()).not.toBe('timeout');
    },
  );

  it('an upgrade request on a keep-alive connection once the WebSockets are being closed gets 503 with Retry-After and Connection: close, or its connection closed: never a WebSocket, never a hang', async () => {
    const server = await start();
    // A silent WebSocket keeps its farewell open (up to the 1 s close timeout): the drain is on.
    const watcher = await openWebSocket(server.port, { answerClose: false });
    const keepAlive = await openConnection(server.port);
    expect((await keepAlive.request({ path: '/' })).keepAlive).toBe(true);
    server.kill('SIGTERM');
    expect(await watcher.waitForClose(10_000)).toMatchObject({ code: 1001 });
    let answer: Awaited<ReturnType<typeof keepAlive.readResponse>> | 'closed';
    try {
      keepAlive.send(
        'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      answer = await keepAlive.readResponse({ timeoutMs: 5_000 });
    } catch (error) {
      // The runtime closed the idle connection with the listener (Bun's stop(false)): also no hang.
      if (!(error instanceof ConnectionClosedError) && !(error instanceof AmbiguousFailure && error.kind !== 'timeout')) throw error;
      answer = 'closed';
    }
    if (runtime === 'bun' && answer === 'closed') {
      expect(await keepAlive.waitForClose()).not.toBe('timeout');
    } else {
      expect(answer).not.toBe('closed');
      if (answer === 'closed') return;
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.connectionClose).toBe(true);
      expect(await keepAlive.waitForClose()).toBe('fin');
    }
    expect((await server.exited).code).toBe(0);
  });
});

describe.each(
  (['node', 'bun', 'deno'] as const).filter((runtime) => isUnderTest(runtime)).map((runtime) => ({ runtime, label: `${runtime} ${capabilities(runtime).version}` })),
)('a restart on $label', ({ runtime }) => {
  it('a WebSocket gets 1012 (Service Restart) when the process stops for a restart (lifecycle.shutdown("restart"), as a hot restart does)', async () => {
    const server = await startServer({ runtime, script: fixturePath('restart-server.mjs') });
    const ws = await openWebSocket(server.port);
    ws.sendText('hi');
    expect(await ws.nextText()).toBe('hi');
    server.kill('SIGUSR2');
    expect(await ws.waitForClose(10_000)).toMatchObject({ code: 1012 });
    expect(await ws.waitForEnd()).toBe('fin');
    expect((await server.exited).code).toBe(0);
    expect(reportLine(server)).toMatch(/^quiesce: shutdown clean .*\(restart\).*websockets 1 closed, 0 cut/);
  });
});

describe.each(exampleTargets)('the example under quiesce run on $label', ({ runtime, script }) => {
  it('a roll tells the old generation\'s clients the truth: /events ends with event: shutdown, data: restart (and /ws gets 1012 where WebSockets are served on the inherited socket)', async () => {
    const generation = runtimeCommand(runtime, script);
    const sup = await startServer({
      runtime: 'node',
      script: fixturePath('listener-run.mjs'),
      args: ['run', '--listen', '127.0.0.1:0', '--', generation.command, ...generation.args],
      env: { ...generation.env, QUIESCE_DEADLINE_MS: '20000' },
      readyPattern: /quiesce run: listening on (http:\/\/\S+)/,
    });
    await sup.waitForLine(/generation 1 \(pid \d+\) ready/, 30_000);
    const stream = await openEventStream(sup.port);
    expect(await stream.waitForEvent((event) => event.data === 'tick 2')).not.toBe('timeout');
    const servesWebSockets = capabilities(runtime).servesInheritedSocket;
    const ws = servesWebSockets ? await openWebSocket(sup.port) : undefined;
    sup.kill('SIGHUP');
    await sup.waitForLine(/asked generation 1 \(pid \d+\) to stop for a restart/, 30_000);
    expect(await stream.waitForEvent((event) => event.event === 'shutdown', 15_000)).toMatchObject({ data: 'restart' });
    expect(await stream.waitForEnd()).toBe('fin');
    expect(stream.complete).toBe(true);
    if (ws) {
      expect(await ws.waitForClose(10_000)).toMatchObject({ code: 1012 });
      expect(await ws.waitForEnd()).toBe('fin');
    } else {
      // Bun.serve and Deno.serve cannot adopt the socket; node:http serves it, without WebSockets.
      const refused = await openConnection(sup.port);
      const answer = await refused.request({ path: '/ws', headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' } });
      expect(answer.status).toBe(501);
    }
    await sup.waitForLine(/generation 1 \(pid \d+\) exited with code 0/, 20_000);
    expect(sup.lines.some((line) => /quiesce: shutdown clean .*\(restart\)/.test(line))).toBe(true);
    sup.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    await sleep(0);
  });
});
