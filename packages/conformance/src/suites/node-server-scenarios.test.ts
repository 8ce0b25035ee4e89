import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isUnderTest, killAllChildren, sleep, startServer } from '@quiesce/test-support';
import { fixturePath, openConnection } from '../harness/index.ts';

// Node-only behaviour: skipped when QUIESCE_TEST_RUNTIMES leaves Node out.
const describeOnNode = describe.skipIf(!isUnderTest('node'));

// Scenarios the example server does not expose (https, upgrades, an exit nobody forces), checked
// on fixture servers that use the same lifecycle.

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

describeOnNode('https server on node', () => {
  let dir = '';
  const tls = { TLS_KEY: '', TLS_CERT: '' };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'quiesce-tls-'));
    tls.TLS_KEY = join(dir, 'key.pem');
    tls.TLS_CERT = join(dir, 'cert.pem');
    // A throwaway self-signed certificate; openssl ships with the OS image.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', tls.TLS_KEY, '-out', tls.TLS_CERT], {
      stdio: 'ignore',
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A raw HTTP/1.1 exchange over TLS: what the server really sends, and how the socket ends. */
  async function tlsClient(port: number) {
    const socket: TLSSocket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    let data = '';
    let ended: 'fin' | 'reset' | undefined;
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
    });
    socket.on('end', () => {
      ended ??= 'fin';
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      ended ??= error.code === 'ECONNRESET' ? 'reset' : 'fin';
    });
    const waitFor = async (test: () => boolean, ms = 10_000): Promise<void> => {
      const limit = Date.now() + ms;
      while (!test()) {
        if (Date.now() > limit) throw new Error(`timed out; got ${JSON.stringify(data)}`);
        await sleep(20);
      }
    };
    return {
      async get(path: string): Promise<string> {
        data = '';
        socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
        await waitFor(() => /\r\n\r\n[\s\S]*\n$/.test(data));
        return data;
      },
      async closed(): Promise<'fin' | 'reset'> {
        await waitFor(() => ended !== undefined);
        return ended!;
      },
    };
  }

  it('works the same over TLS: in-flight answer with Connection: close, idle TLS socket closed cleanly, exit 0', async () => {
    const server = await startServer({ runtime: 'node', script: fixturePath('node-https-server.mjs'), env: tls, readyPattern: /listening on (https:\/\/\S+)/ });
    const idle = await tlsClient(server.port);
    expect(await idle.get('/')).toMatch(/^HTTP\/1\.1 200[\s\S]*Connection: keep-alive/);
    const busy = await tlsClient(server.port);
    const inFlight = busy.get('/?ms=1000');
    await sleep(200);
    server.kill('SIGTERM');
    expect(await inFlight).toMatch(/^HTTP\/1\.1 200[\s\S]*Connection: close/);
    expect(await idle.closed()).toBe('fin');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(server.stdout.join('\n')).toMatch(/shutdown clean .*requests 1 completed, 0 cut; sockets 1 idle-closed/);
  });
});

describeOnNode('upgraded (WebSocket-style) sockets on node', () => {
  it('are handed to the hook, not closed as idle, and do not hold the process past the deadline', async () => {
    const server = await startServer({ runtime: 'node', script: fixturePath('node-upgrade-server.mjs'), env: { QUIESCE_DEADLINE_MS: '1500' } });
    const conn = await openConnection(server.port);
    conn.send('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    const upgraded = await conn.readResponse({ method: 'GET' }).catch((error: unknown) => error);
    expect((upgraded as { status?: number }).status ?? 101).toBe(101);
    server.kill('SIGTERM');
    await server.waitForLine(/upgraded sockets handed to the hook: 1/);
    await sleep(700); // far past the idle grace (250 ms): an idle HTTP socket would be closed by now
    expect(conn.closedBy).toBeNull();
    const exit = await server.exited;
    expect(exit.code).toBe(1); // the deadline had to cut the upgraded socket
    expect(exit.afterMs).toBeLessThan(8_000);
    expect(server.stdout.join('\n')).toMatch(/shutdown forced .*; websockets 0 closed, 1 cut;/);
    expect(await conn.waitForClose()).not.toBe('timeout');
  });
});

describeOnNode('nothing of ours keeps the event loop alive', () => {
  it('after shutdown with exit disabled, the process ends by itself, long before its 60 s deadline and 30 s hook timeouts', async () => {
    const server = await startServer({ runtime: 'node', script: fixturePath('node-natural-exit-server.mjs') });
    const conn = await openConnection(server.port);
    await conn.request({ path: '/?ms=0' });
    server.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.afterMs).toBeLessThan(10_000);
    expect(server.stdout.join('\n')).toContain('natural exit 0 report clean');
  });
});
