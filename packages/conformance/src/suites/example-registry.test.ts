import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type EtcdServer,
  getKey,
  killAllChildren,
  leaseTimeToLive,
  type ServerHandle,
  startEtcd,
  startProxy,
  startServer,
  type TcpProxy,
  waitFor,
} from '@quiesce/test-support';
import { openConnection } from '../harness/index.ts';
import { exampleTargets } from './targets.ts';

// The example server registers itself in a REAL etcd (started here on free loopback ports) when
// ETCD_ENDPOINTS is set, and deregisters at the start of its lame duck.

let etcd: EtcdServer;
let proxy: TcpProxy;
beforeAll(async () => {
  etcd = await startEtcd();
  proxy = await startProxy(Number(new URL(etcd.endpoint).port));
});
afterAll(async () => {
  await killAllChildren();
  await proxy?.close();
  await etcd?.stop();
});
afterEach(() => killAllChildren());

describe.each(exampleTargets)('example server on $label with etcd', ({ runtime, script }) => {
  const start = async (env: Record<string, string>): Promise<{ server: ServerHandle; key: string }> => {
    const server = await startServer({ runtime, script, env: { QUIESCE_DEADLINE_MS: '10000', ...env } });
    return { server, key: `/services/quiesce-example/127.0.0.1:${server.port}` };
  };

  it('holds its key with a lease while serving; on SIGTERM the key disappears during the lame duck while the listener still accepts', async () => {
    const { server, key } = await start({ ETCD_ENDPOINTS: etcd.endpoint, QUIESCE_LAME_DUCK_MS: '2000' });
    await server.waitForLine(/registered in etcd: ok/, 15_000);
    const stored = await getKey(etcd.endpoint, key);
    expect(stored).toBeDefined();
    expect(JSON.parse(stored!.value)).toMatchObject({ address: `127.0.0.1:${server.port}` });
    expect((await leaseTimeToLive(etcd.endpoint, stored!.lease)).ttl).toBeGreaterThan(0);

    server.kill('SIGTERM');
    expect(await waitFor(async () => (await getKey(etcd.endpoint, key)) === undefined, 1_500)).toBeDefined();
    // Still in the lame duck: a new connection is accepted and answered (with Connection: close).
    const during = await (await openConnection(server.port)).request({ path: '/readyz' });
    expect(during.status).toBe(503);
    expect(during.headers['connection']).toBe('close');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(server.stdout.join('\n')).toMatch(/quiesce: shutdown clean .*deregistered etcd ok \d+ms;/);
  });

  it("a crashed process's key expires with its lease", async () => {
    const { server, key } = await start({ ETCD_ENDPOINTS: etcd.endpoint, QUIESCE_REGISTRY_TTL_S: '2' });
    await server.waitForLine(/registered in etcd: ok/, 15_000);
    expect(await getKey(etcd.endpoint, key)).toBeDefined();
    server.kill('SIGKILL');
    await server.exited;
    expect(await waitFor(async () => (await getKey(etcd.endpoint, key)) === undefined, 12_000)).toBeDefined();
  });

  it('an etcd that hangs after registration (accepts, never answers) never delays the exit past the deadline, and the report says so', async () => {
    await proxy.setMode('forward');
    const { server } = await start({ ETCD_ENDPOINTS: proxy.url, QUIESCE_DEADLINE_MS: '4000' });
    await server.waitForLine(/registered in etcd: ok/, 15_000);
    await proxy.setMode('hang');
    server.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0); // a failed deregistration is reported, it does not fail the shutdown
    expect(exit.afterMs).toBeLessThan(4_000 + 5_000); // the deadline, with room for a loaded box
    expect(server.stdout.join('\n')).toMatch(/deregistered etcd timeout \d+ms/);
  });
});
