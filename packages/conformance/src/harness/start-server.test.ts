import {
  HarnessOptionError,
  killAllChildren,
  LineTimeoutError,
  runtimesUnderTest,
  ServerStartError,
  type ServerHandle,
  startServer,
} from '@quiesce/test-support';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fixturePath } from './fixtures.ts';
import { openConnection } from './raw-http.ts';

// startServer (from @quiesce/test-support) on the conformance fixtures, spoken to with this harness.

let server: ServerHandle | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => killAllChildren());

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const runtime of runtimesUnderTest()) {
  describe(`startServer on ${runtime}`, () => {
    it('resolves once the server prints its URL, with the real port it chose for PORT=0', async () => {
      server = await startServer({ runtime, script: fixturePath('plain-server.mjs') });
      expect(server.runtime).toBe(runtime);
      expect(server.host).toBe('127.0.0.1');
      expect(server.port).toBeGreaterThan(0);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect(server.stdout).toContain(`listening on ${server.url}`);
      expect(server.exitStatus).toBeUndefined();

      const connection = await openConnection(server.port);
      const ok = await connection.request({ path: '/' });
      expect([ok.status, ok.body]).toEqual([200, 'ok']);
      const pid = await connection.request({ path: '/pid' });
      expect(Number(pid.body)).toBe(server.pid);
      const chunked = await connection.request({ path: '/chunked' });
      expect([chunked.chunked, chunked.body]).toEqual([true, 'one,two,three']);
      connection.destroy();
    });

    it('observes the output and the exit that follow SIGTERM', async () => {
      server = await startServer({ runtime, script: fixturePath('plain-server.mjs') });
      expect(server.kill('SIGTERM')).toBe(true);
      expect(await server.waitForLine(/received SIGTERM/, 5_000)).toBe('received SIGTERM');
      const exit = await server.exited;
      expect(exit).toMatchObject({ code: 0, signal: null, signalled: true });
      expect(exit.afterMs).toBeLessThan(5_000);
      expect(server.stdout).toContain('server closed');
      expect(server.exitStatus).toEqual(exit);
      expect(server.kill('SIGTERM')).toBe(false);
    });
  });
}

describe('startServer', () => {
  it('honours PORT and HOST from env', async () => {
    const first = await startServer({ runtime: 'node', script: fixturePath('plain-server.mjs') });
    const port = first.port;
    await first.stop();
    // The port was just free; reuse it to check PORT is passed through.
    server = await startServer({
      runtime: 'node',
      script: fixturePath('plain-server.mjs'),
      env: { PORT: String(port), HOST: '127.0.0.1' },
    });
    expect(server.port).toBe(port);
  });

  it('stop() SIGKILLs a server that is still running and is idempotent', async () => {
    server = await startServer({ runtime: 'node', script: fixturePath('plain-server.mjs') });
    const exit = await server.stop();
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', signalled: true });
    expect(await server.stop()).toEqual(exit);
    expect(isAlive(server.pid)).toBe(false);
  });

  it('waitForLine finds earlier lines, waits for later ones, and rejects once the server has exited', async () => {
    server = await startServer({ runtime: 'node', script: fixturePath('plain-server.mjs') });
    expect(await server.waitForLine(/^listening on/)).toMatch(/^listening on http/);
    const later = server.waitForLine(/server closed/, 5_000, server.lines.length);
    server.kill('SIGTERM');
    expect(await later).toBe('server closed');
    await expect(server.waitForLine(/never printed/, 5_000)).rejects.toBeInstanceOf(LineTimeoutError);
  });

  it('waitForLine rejects with LineTimeoutError after its timeout', async () => {
    server = await startServer({ runtime: 'node', script: fixturePath('plain-server.mjs') });
    const failure = await server.waitForLine(/never printed/, 100).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LineTimeoutError);
    expect((failure as Error).message).toContain('listening on');
  });

  it('rejects with the output when the server exits before it is ready', async () => {
    const failure = await startServer({ runtime: 'node', script: fixturePath('exit-early.mjs') }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ServerStartError);
    expect(failure).toMatchObject({ reason: 'exited', stderr: ['cannot start: missing DATABASE_URL'] });
    expect((failure as Error).message).toContain('code 3');
  });

  it('rejects and kills the child when the ready line does not come in time', async () => {
    const failure = await startServer({
      runtime: 'node',
      script: fixturePath('plain-server.mjs'),
      readyPattern: /ready on (http:\S+)/,
      timeoutMs: 2_000,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServerStartError);
    expect(failure).toMatchObject({ reason: 'timeout' });
    expect((failure as ServerStartError).stdout[0]).toMatch(/^listening on/);
    await killAllChildren();
    expect(isAlive((failure as ServerStartError).pid!)).toBe(false);
  });

  it('rejects when the ready line holds no URL', async () => {
    const failure = await startServer({
      runtime: 'node',
      script: fixturePath('plain-server.mjs'),
      readyPattern: /(listening) on/,
    }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'ServerStartError', reason: 'url' });
  });

  it('killAllChildren() leaves no server child running', async () => {
    const started = await Promise.all([
      startServer({ runtime: 'node', script: fixturePath('plain-server.mjs') }),
      startServer({ runtime: 'node', script: fixturePath('plain-server.mjs') }),
    ]);
    await killAllChildren();
    for (const handle of started) {
      expect(handle.exitStatus).toMatchObject({ signal: 'SIGKILL' });
      expect(isAlive(handle.pid)).toBe(false);
    }
  });

  it('rejects bad options with a HarnessOptionError naming the option', async () => {
    const script = fixturePath('plain-server.mjs');
    await expect(startServer({ runtime: 'python' as never, script })).rejects.toMatchObject({ option: 'runtime' });
    await expect(startServer({ runtime: 'node', script: '' })).rejects.toMatchObject({ option: 'script' });
    await expect(startServer({ runtime: 'node', script, env: { PORT: 1 as never } })).rejects.toMatchObject({
      option: 'env.PORT',
    });
    await expect(startServer({ runtime: 'node', script, timeoutMs: 0 })).rejects.toBeInstanceOf(HarnessOptionError);
  });
});
