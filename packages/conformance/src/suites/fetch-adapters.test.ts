import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  capabilities,
  isUnderTest,
  killAllChildren,
  runtimeBinary,
  type ServerExit,
  type ServerHandle,
  sleep,
  startServer,
} from '@quiesce/test-support';
import { fixturePath, type LoadResult, openConnection, type RawResponse, RefusedFailure, runKeepAliveLoad } from '../harness/index.ts';

// @quiesce/bun and @quiesce/deno as clients see them, over real sockets with real signals: what the
// example app (example-server.test.ts) does not exercise. Each runtime runs its fixture,
// src/fixtures/<runtime>-server.ts, on the shared routes of src/fixtures/fetch-routes.ts, and
// src/fixtures/<runtime>-bare-server.ts, the runtime's own stop without the adapter.

interface FetchRuntime {
  readonly runtime: 'bun' | 'deno';
  readonly name: string;
  /** The bare runtime's stop, as the baseline calls it. */
  readonly bareStop: string;
  /** What the adapter waits for before a response counts as delivered. */
  readonly deliveredWhen: string;
  /** The 500 a throwing handler gets: its source, and its body. */
  readonly errorPage: { readonly source: string; readonly body: string };
}

const FETCH_RUNTIMES: readonly FetchRuntime[] = [
  {
    runtime: 'bun',
    name: 'Bun',
    bareStop: 'Bun.serve stop()',
    deliveredWhen: 'server.pendingRequests',
    errorPage: { source: 'the page from the error option', body: 'fixture error page: fixture: /throw\n' },
  },
  {
    runtime: 'deno',
    name: 'Deno',
    bareStop: 'Deno.serve shutdown()',
    deliveredWhen: 'server.finished',
    errorPage: { source: "Deno's default 500", body: 'Internal Server Error' },
  },
];

let server: ServerHandle | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.stop();
  server = undefined;
});
afterAll(() => killAllChildren());

async function start(runtime: FetchRuntime['runtime'], env: Record<string, string> = {}): Promise<ServerHandle> {
  server = await startServer({ runtime, script: fixturePath(`${runtime}-server.ts`), env });
  return server;
}

/** Starts the fixture with a `/slow?ms=N` request whose handler has begun: the process drains until it ends. */
async function startDraining(
  runtime: FetchRuntime['runtime'],
  ms: number,
  env: Record<string, string> = {},
): Promise<{ s: ServerHandle; slow: Promise<RawResponse> }> {
  const s = await start(runtime, env);
  const connection = await openConnection(s.port);
  const slow = connection.request({ path: `/slow?ms=${ms}` });
  await s.waitForLine(/started \/slow/);
  return { s, slow };
}

/** One request on a fresh connection, which is then closed. */
async function get(port: number, path: string): Promise<RawResponse> {
  const connection = await openConnection(port);
  try {
    return await connection.request({ path });
  } finally {
    connection.destroy();
  }
}

/** Polls `probe` until it returns `true`; at most `ms`. */
async function eventually(probe: () => Promise<boolean>, ms = 5_000): Promise<boolean> {
  const limit = Date.now() + ms;
  while (Date.now() < limit) {
    if (await probe()) return true;
    await sleep(20);
  }
  return false;
}

/** Resolves once `/readyz` answers 503 on a new connection (the lame duck has begun); at most 5 s. */
function lameDuckBegun(port: number): Promise<boolean> {
  return eventually(async () => (await get(port, '/readyz')).status === 503);
}

/** Opens new connections until one is refused (the listener closed); at most `ms`. */
async function untilRefused(port: number, ms = 5_000): Promise<boolean> {
  const limit = Date.now() + ms;
  while (Date.now() < limit) {
    try {
      const probe = await openConnection(port);
      probe.destroy();
    } catch (error) {
      if (error instanceof RefusedFailure) return true;
      throw error;
    }
    await sleep(20);
  }
  return false;
}

/** A raw socket the test reads by hand; destroyed in afterEach. */
function rawSocket(port: number): Socket {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  return socket;
}

/** One line per load run, printed so that a baseline's numbers show in the test output. */
function summary(label: string, result: LoadResult, exit: ServerExit): string {
  const t = result.totals;
  return (
    `[${label}] attempts=${t.attempts} ok=${t.ok} refused=${t.refused} ambiguous=${t.ambiguous} ` +
    `${JSON.stringify(t.ambiguousByKind)} error=${t.error} connection-close=${t.connectionCloseResponses} connections=${t.connections}; ` +
    `ambiguous per client: ${result.clients.map((c) => c.ambiguous).join('')}; exit ${exit.code} ${exit.afterMs} ms after SIGTERM`
  );
}

for (const target of FETCH_RUNTIMES) {
  const { runtime, name } = target;
  // Bun and Deno do not change with the Node line: the Node-lines matrix (QUIESCE_TEST_RUNTIMES=node) skips them.
  const onRuntime = describe.skipIf(!isUnderTest(runtime));

  onRuntime(`@quiesce/${runtime} graceful shutdown (real ${name} process)`, () => {
    it('new connections are refused once the lame duck ends while an in-flight request still drains, and that request ends with Connection: close', async () => {
      const { s, slow } = await startDraining(runtime, 3000, { QUIESCE_LAME_DUCK_MS: '1000' });
      s.kill('SIGTERM');
      expect(await untilRefused(s.port)).toBe(true);
      expect(s.exitStatus).toBeUndefined(); // refused while the in-flight request still drains
      const answered = await slow;
      expect(answered.body).toBe('slept 3000ms\n');
      expect(answered.connectionClose).toBe(true);
      expect((await s.exited).code).toBe(0);
    });

    it('a streaming response in flight at SIGTERM is delivered to its last chunk before the process exits', async () => {
      const s = await start(runtime);
      const connection = await openConnection(s.port);
      const response = connection.request({ path: '/stream?chunks=6&ms=200' });
      await s.waitForLine(/started \/stream/);
      s.kill('SIGTERM');
      const streamed = await response;
      expect(streamed.chunked).toBe(true);
      expect(streamed.body).toBe('chunk 1\nchunk 2\nchunk 3\nchunk 4\nchunk 5\nchunk 6\n');
      expect((await s.exited).code).toBe(0);
    });

    it(`a 32 MB body still being written to a paused reader at SIGTERM arrives whole: the drain waits for ${target.deliveredWhen}`, async () => {
      const s = await start(runtime);
      const bytes = 32 * 1024 * 1024;
      // A reader that pauses, so the runtime is still writing when the signal comes.
      const socket = rawSocket(s.port);
      let received = 0;
      const ended = new Promise<string>((resolve) => {
        socket.on('end', () => resolve('fin'));
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.write(`GET /big?bytes=${bytes} HTTP/1.1\r\nHost: test\r\n\r\n`);
      socket.pause();
      await s.waitForLine(/started \/big/);
      s.kill('SIGTERM');
      await sleep(800); // past the adapter's 250 ms hold: without the wait the process would be gone
      socket.resume();
      expect(await ended).toBe('fin');
      expect(received).toBeGreaterThan(bytes);
      expect((await s.exited).code).toBe(0);
    });

    it('the deadline ends the response hold: with a 10-minute idleGraceMs and holdMaxMs the process stops at its 2 s deadline (forced, exit 1)', async () => {
      const ten = String(600_000);
      const s = await start(runtime, { QUIESCE_IDLE_GRACE_MS: ten, QUIESCE_HOLD_MAX_MS: ten, QUIESCE_DEADLINE_MS: '2000' });
      // A response just went out: its client may be about to come back, so the hold waits for quiet.
      expect((await get(s.port, '/')).status).toBe(200);
      s.kill('SIGTERM');
      const exit = await s.exited;
      expect(exit.code).toBe(1);
      expect(exit.afterMs).toBeLessThan(600_000); // the hold's own bounds were never reached
      expect(s.stdout.join('\n')).toMatch(/quiesce: shutdown forced in \d+ms \(SIGTERM\)/);
    });

    it(`an error response during the lame duck (${target.errorPage.source}) carries Connection: close too`, async () => {
      const s = await start(runtime, { QUIESCE_LAME_DUCK_MS: '3000' });
      s.kill('SIGTERM');
      expect(await lameDuckBegun(s.port)).toBe(true);
      const failed = await get(s.port, '/throw');
      expect(failed.status).toBe(500);
      expect(failed.body).toBe(target.errorPage.body);
      expect(failed.connectionClose).toBe(true);
    });

    // Deno 2.9's shutdown() cancels every connection still waiting for a request head: see the pin
    // in "Deno limits the adapter cannot lift".
    const answersPartialHead = capabilities(runtime).answersPartialHeadOnShutdown;
    const partialHeadTest = answersPartialHead ? it : it.skip;
    partialHeadTest(
      'a request whose head was still arriving when the listener closed is answered, with Connection: close' +
        (!answersPartialHead
          ? ' — impossible on Deno 2.9: shutdown() cancels every connection that is waiting for a request head, partly received ones included, and Deno.serve exposes no connection to spare it'
          : ''),
      async () => {
        const { s, slow } = await startDraining(runtime, 2000);
        const partial = await openConnection(s.port);
        partial.send('GET / HTTP/1.1\r\nHost: test\r\n');
        s.kill('SIGTERM');
        expect(await untilRefused(s.port)).toBe(true);
        partial.send('\r\n');
        const answered = await partial.readResponse();
        expect(answered.status).toBe(200);
        expect(answered.connectionClose).toBe(true);
        await slow;
        expect((await s.exited).code).toBe(0);
      },
    );
  });

  onRuntime(`baseline: SIGTERM under 20 keep-alive clients in a tight loop (real ${name} process, no adapter)`, () => {
    it(`a bare ${target.bareStop} loses requests (about one per client)`, async () => {
      const current = await startServer({ runtime, script: fixturePath(`${runtime}-bare-server.ts`) });
      server = current;
      const stop = new AbortController();
      const load = runKeepAliveLoad({ port: current.port, clients: 20, until: stop.signal, maxDurationMs: 5_000, maxRequests: 100_000 });
      await sleep(300);
      current.kill('SIGTERM');
      const exit = await Promise.race([current.exited, sleep(4_000).then(() => current.stop())]);
      // Clients whose connection was closed reconnect and are refused: let them.
      await sleep(100);
      stop.abort();
      const result = await load;
      console.log(summary(`${runtime} bare ${target.bareStop}`, result, exit));
      expect(result.totals.error).toBe(0);
      expect(result.totals.ok).toBeGreaterThan(0);
      expect(result.totals.ambiguous).toBeGreaterThanOrEqual(1);
    });
  });
}

describe.skipIf(!isUnderTest('bun'))('Bun only: routes, WebSocket and the error option (real Bun process)', () => {
  it('routes handlers are wrapped too: a routed response during the lame duck carries Connection: close', async () => {
    const s = await start('bun', { QUIESCE_LAME_DUCK_MS: '3000' });
    expect((await get(s.port, '/routed')).connectionClose).toBe(false);
    s.kill('SIGTERM');
    expect(await lameDuckBegun(s.port)).toBe(true);
    const routed = await get(s.port, '/routed');
    expect(routed.body).toBe('routed\n');
    expect(routed.connectionClose).toBe(true);
  });

  it('a WebSocket is tracked as an upgraded connection: closed with 1001 as shutdown closes the listener, then the process exits 0', async () => {
    const s = await start('bun');
    const socket = rawSocket(s.port);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
    });
    socket.write(
      'GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(await eventually(async () => received.includes('\r\n\r\n'))).toBe(true);
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    const afterHandshake = received.indexOf('\r\n\r\n') + 4;
    s.kill('SIGTERM');
    // A close frame (opcode 8) whose payload starts with the status code 1001 (0x03e9).
    expect(await eventually(async () => received.length >= afterHandshake + 4)).toBe(true);
    const frame = received.subarray(afterHandshake);
    expect(frame[0]).toBe(0x88);
    expect(frame.readUInt16BE(2)).toBe(1001);
    socket.end();
    expect((await s.exited).code).toBe(0);
    expect(s.lines.join('\n')).toMatch(/quiesce: shutdown clean .*; websockets 1 closed, 0 cut;/);
  });

  it('a request whose error page fails too does not hold the drain: clean exit 0 long before the deadline', async () => {
    const s = await start('bun', { QUIESCE_DEADLINE_MS: '8000' });
    expect((await get(s.port, '/throw-twice')).status).toBe(500);
    s.kill('SIGTERM');
    const exit = await s.exited;
    expect(exit.code).toBe(0);
    expect(exit.afterMs).toBeLessThan(5_000);
    expect(s.lines.join('\n')).toMatch(/quiesce: shutdown clean /);
  });
});

describe.skipIf(!isUnderTest('bun'))('Bun limits the adapter cannot lift', () => {
  // The matching skip ("preconnected sockets ... closed with FIN", TCP_DEFER_ACCEPT) is in example-server.test.ts.
  it('pins Bun 1.4 on Linux: a preconnect (connected, nothing sent) is dropped without FIN or RST when the listener closes, and a request sent on it later is reset', async () => {
    const { s, slow } = await startDraining('bun', 2500);
    const preconnect = await openConnection(s.port);
    s.kill('SIGTERM');
    expect(await untilRefused(s.port)).toBe(true);
    expect(await preconnect.waitForClose(300)).toBe('timeout'); // nothing tells the client
    await expect(preconnect.request({ path: '/' })).rejects.toMatchObject({ kind: 'reset' });
    await slow;
  });
});

describe.skipIf(!isUnderTest('deno'))('Deno only: serveDeno reusePort (real Deno process)', () => {
  const script = fixturePath('deno-reuse-port.ts');
  const run = (flags: string[]) =>
    spawnSync(runtimeBinary('deno'), ['run', '-A', '--quiet', ...flags, script], {
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 20_000,
    });

  it('refuses reusePort without --unstable-net with a catchable error, where Deno itself would exit the process with code 70', () => {
    const result = run([]);
    expect(result.stdout).toContain('refused DenoUnsupportedOptionError QUIESCE_DENO_UNSUPPORTED_OPTION reusePort');
    expect(result.status).toBe(0);
  });

  it('passes reusePort through when --unstable-net is on', () => {
    const result = run(['--unstable-net']);
    expect(result.stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(result.status).toBe(0);
  });
});

describe.skipIf(!isUnderTest('deno'))('Deno limits the adapter cannot lift', () => {
  it('pins Deno 2.9: after a Connection: close response the socket stays open, and a further request on it is answered', async () => {
    const s = await start('deno', { QUIESCE_LAME_DUCK_MS: '3000' });
    const connection = await openConnection(s.port);
    s.kill('SIGTERM');
    expect(await lameDuckBegun(s.port)).toBe(true);
    expect((await connection.request({ path: '/' })).connectionClose).toBe(true);
    expect(await connection.waitForClose(500)).toBe('timeout');
    expect((await connection.request({ path: '/' })).status).toBe(200);
  });

  it.skip('closes the socket after a Connection: close response — impossible on Deno 2.9: its HTTP/1.1 server keeps a connection open whenever the request allowed keep-alive, whatever the response headers say, and Deno.serve exposes no connection to close (compliant clients close it themselves)', () => {});

  it('pins Deno 2.9: shutdown() closes a connection whose request head is still arriving, with FIN and no response', async () => {
    const { s, slow } = await startDraining('deno', 2500);
    const partial = await openConnection(s.port);
    partial.send('GET / HTTP/1.1\r\nHost: test\r\n');
    // Let Deno accept the connection and read the partial head first: a connection still in the
    // listen backlog when shutdown() closes the listener is reset by the kernel, which is not what
    // this pins (it failed that way once under CI load, with the hold's close 250 ms after SIGTERM).
    await sleep(200);
    s.kill('SIGTERM');
    expect(await partial.waitForClose()).toBe('fin');
    expect(partial.responsesRead).toBe(0);
    expect(partial.bytesRead).toBe(0);
    await slow;
  });
});
