// The registry inside a real graceful server (quiesce's createLifecycle) in a real child process,
// against a real etcd, driven by real signals. The child imports the BUILT package (dist/).
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, assertBuilt } from './test-support/child.ts';
import { getKey, leaseTimeToLive, waitFor } from './test-support/etcd-api.ts';
import { type EtcdServer, startEtcd } from './test-support/etcd-server.ts';

const fixture = new URL('./fixtures/lifecycle-server.mjs', import.meta.url).pathname;
const READY_MS = 20_000;

let etcd: EtcdServer;
beforeAll(async () => {
  assertBuilt();
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

const children: Child[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

let serial = 0;
async function startServer(ttlSeconds: number): Promise<{ child: Child; port: number; key: string }> {
  const service = `lifecycle-${process.pid}-${++serial}`;
  const child = new Child(process.execPath, [fixture], { ETCD_ENDPOINT: etcd.endpoint, SERVICE: service, TTL_S: String(ttlSeconds) }, service);
  children.push(child);
  const line = await child.line('registered ', READY_MS);
  const info = JSON.parse(line.slice('registered '.length)) as { port: number; outcome: string; entry: string };
  if (info.outcome !== 'ok') throw child.failure(`could not register: ${line}`);
  return { child, port: info.port, key: `/services/${service}/127.0.0.1:${info.port}` };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function get(port: number): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('deregistration in the lame duck of a real server', () => {
  it('after SIGTERM the key disappears while the listener still accepts connections, then the server exits 0', async () => {
    const { child, port, key } = await startServer(10);
    const stored = await getKey(etcd.endpoint, key);
    expect(stored).toBeDefined();
    expect((await leaseTimeToLive(etcd.endpoint, stored!.lease)).ttl).toBeGreaterThan(0);
    expect(JSON.parse(stored!.value)).toMatchObject({ address: `127.0.0.1:${port}`, port });

    child.send('SIGTERM');
    const gone = await waitFor(async () => (await getKey(etcd.endpoint, key)) === undefined, 5_000);
    expect(gone).toBeDefined();
    // Still inside the 1 s lame duck: new connections are accepted and answered with Connection: close.
    expect(await accepts(port)).toBe(true);
    expect(await get(port)).toEqual({ status: 200, connection: 'close' });

    const exit = await child.exited(15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await accepts(port)).toBe(false);
    expect(await getKey(etcd.endpoint, key)).toBeUndefined();

    const deregistered = child.lines.find((l) => l.startsWith('quiesce-registry: etcd deregistered '));
    expect(deregistered).toMatch(new RegExp(`^quiesce-registry: etcd deregistered ${key} in \\d+ms$`));
    const report = child.lines.find((l) => l.startsWith('quiesce: shutdown '));
    expect(report).toMatch(/^quiesce: shutdown clean in \d+ms \(SIGTERM\): lame-duck \d+ms, .*hooks 2 ok, 0 failed; exit 0$/);
  });

  it("a crashed process's key expires with its lease (SIGKILL, TTL 2 s)", async () => {
    const { child, key } = await startServer(2);
    expect(await getKey(etcd.endpoint, key)).toBeDefined();

    child.send('SIGKILL');
    expect((await child.exited(10_000)).signal).toBe('SIGKILL');
    const gone = await waitFor(async () => (await getKey(etcd.endpoint, key)) === undefined, 2_000 + 10_000);
    expect(gone).toBeDefined();
  });
});
