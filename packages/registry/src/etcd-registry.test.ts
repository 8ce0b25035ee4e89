import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, type EtcdServer, getKey, type HungServer, leaseTimeToLive, revokeLease, startEtcd, startHungServer, startProxy, type TcpProxy, waitFor } from '@quiesce/test-support';
import { createEtcdRegistry } from './etcd-registry.ts';
import { RegistryStateError, RegistryTimeoutError, RegistryUnavailableError } from './errors.ts';
import type { ServiceRegistry } from './service-registry.ts';

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

const registries: ServiceRegistry[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const registry of registries.splice(0)) await registry.close();
  for (const close of closers.splice(0)) await close();
});

let serial = 0;
/** A fresh service name per test, so tests never see each other's keys. */
function instance(port = 4000): { service: string; host: string; port: number } {
  serial++;
  return { service: `etcd-test-${process.pid}-${serial}`, host: '127.0.0.1', port };
}
const keyOf = (i: { service: string; host: string; port: number }): string => `/services/${i.service}/${i.host}:${i.port}`;

function registry(options: Omit<Parameters<typeof createEtcdRegistry>[0], 'endpoints'> & { endpoints?: string | string[] }, lines?: string[]) {
  const created = createEtcdRegistry({
    endpoints: etcd.endpoint,
    log: lines ? (line) => lines.push(line) : false,
    ...options,
  });
  registries.push(created);
  return created;
}

async function proxy(): Promise<TcpProxy> {
  const started = await startProxy(etcd.clientPort);
  closers.push(() => started.close());
  return started;
}

async function hung(): Promise<HungServer> {
  const started = await startHungServer();
  closers.push(() => started.close());
  return started;
}

const elapsed = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
};

describe('etcd registry against a real etcd', () => {
  it('puts the key on a lease while serving and keeps that lease alive past its TTL', async () => {
    const target = instance();
    const lines: string[] = [];
    const reg = registry({ ttlSeconds: 4, instance: target }, lines);
    const result = await reg.register();
    expect(result).toMatchObject({ registry: 'etcd', operation: 'register', outcome: 'ok', entry: keyOf(target), error: undefined });
    expect(reg.state).toBe('registered');

    const stored = await getKey(etcd.endpoint, keyOf(target));
    expect(stored).toBeDefined();
    expect(JSON.parse(stored!.value)).toEqual({
      service: target.service,
      id: '127.0.0.1:4000',
      address: '127.0.0.1:4000',
      host: '127.0.0.1',
      port: 4000,
    });
    expect(stored!.lease).not.toBe('0');
    const lease = await leaseTimeToLive(etcd.endpoint, stored!.lease);
    expect(lease.grantedTtl).toBe(4);
    expect(lease.ttl).toBeGreaterThan(0);
    expect(lease.keys).toEqual([keyOf(target)]);
    expect(lines.some((l) => l.startsWith(`quiesce-registry: etcd registered ${keyOf(target)} (lease ${stored!.lease}`))).toBe(true);

    // Longer than the TTL: only keep-alives (every ~1.3 s) can have kept the same lease alive.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const later = await getKey(etcd.endpoint, keyOf(target));
    expect(later?.lease).toBe(stored!.lease);
    expect((await leaseTimeToLive(etcd.endpoint, stored!.lease)).ttl).toBeGreaterThan(0);
  });

  it('deregister revokes the lease: the key is gone and the result reports ok with its duration', async () => {
    const target = instance();
    const lines: string[] = [];
    const reg = registry({ instance: target }, lines);
    await reg.register();
    const { lease } = (await getKey(etcd.endpoint, keyOf(target)))!;

    const result = await reg.deregister({ timeoutMs: 5_000 });
    expect(result).toMatchObject({ registry: 'etcd', operation: 'deregister', outcome: 'ok', entry: keyOf(target), error: undefined });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.durationMs).toBeLessThan(5_000);
    expect(reg.state).toBe('deregistered');
    expect(await getKey(etcd.endpoint, keyOf(target))).toBeUndefined();
    expect((await leaseTimeToLive(etcd.endpoint, lease)).ttl).toBe(-1);
    expect(lines.at(-1)).toMatch(new RegExp(`^quiesce-registry: etcd deregistered ${keyOf(target)} in \\d+ms$`));

    // Idempotent, and close always works after it.
    expect((await reg.deregister()).outcome).toBe('ok');
    expect((await reg.close()).outcome).toBe('ok');
    expect(reg.state).toBe('closed');
  });

  it('re-registers with a new lease when the lease is lost while running', async () => {
    const target = instance();
    const lines: string[] = [];
    const reg = registry({ ttlSeconds: 3, instance: target }, lines);
    await reg.register();
    const before = (await getKey(etcd.endpoint, keyOf(target)))!;

    await revokeLease(etcd.endpoint, before.lease);
    expect(await getKey(etcd.endpoint, keyOf(target))).toBeUndefined();

    // The next keep-alive (every 1 s) finds the lease gone, grants a new one and puts the key again.
    const back = await waitFor(async () => (await getKey(etcd.endpoint, keyOf(target))) !== undefined, 15_000);
    expect(back).toBeDefined();
    const after = (await getKey(etcd.endpoint, keyOf(target)))!;
    expect(after.lease).not.toBe(before.lease);
    const lease = await leaseTimeToLive(etcd.endpoint, after.lease);
    expect(lease.ttl).toBeGreaterThan(0);
    expect(lease.keys).toEqual([keyOf(target)]);
    expect(reg.state).toBe('registered');
    expect(lines.some((l) => l.includes(`registration ${keyOf(target)} was lost`) && l.includes('re-registered'))).toBe(true);

    // The re-registered key is removed by deregister like the first one.
    expect((await reg.deregister()).outcome).toBe('ok');
    expect(await getKey(etcd.endpoint, keyOf(target))).toBeUndefined();
  });

  it('deregister while etcd refuses connections fails within its timeout, and the key still expires with its lease', async () => {
    const via = await proxy();
    const target = instance();
    const lines: string[] = [];
    const reg = registry({ endpoints: via.url, ttlSeconds: 2, instance: target }, lines);
    expect((await reg.register()).outcome).toBe('ok');
    expect(await getKey(etcd.endpoint, keyOf(target))).toBeDefined();

    await via.setMode('refuse');
    const [result, wallMs] = await elapsed(() => reg.deregister({ timeoutMs: 1_000 }));
    expect(result.outcome).toBe('error');
    expect(result.error).toBeInstanceOf(RegistryUnavailableError);
    expect(wallMs).toBeLessThan(1_000 + 4_000);
    expect(reg.state).toBe('deregistered');
    expect(lines.at(-1)).toMatch(/deregister error after \d+ms: No etcd endpoint could be reached .*; keep-alive stopped, so the key expires with its lease within 2 s$/);

    // Nothing renews the lease any more: the key goes with it (TTL 2 s, generous margin).
    const gone = await waitFor(async () => (await getKey(etcd.endpoint, keyOf(target))) === undefined, 2_000 + 10_000);
    expect(gone).toBeDefined();
  });

  it('deregister against a hung etcd is abandoned at its own timeout', async () => {
    const via = await proxy();
    const target = instance();
    const reg = registry({ endpoints: via.url, instance: target });
    expect((await reg.register()).outcome).toBe('ok');

    await via.setMode('hang');
    const [result, wallMs] = await elapsed(() => reg.deregister({ timeoutMs: 500 }));
    expect(result.outcome).toBe('timeout');
    expect(result.error).toBeInstanceOf(RegistryTimeoutError);
    expect((result.error as RegistryTimeoutError).ownTimeout).toBe(true);
    expect(result.durationMs).toBeGreaterThanOrEqual(450);
    expect(wallMs).toBeLessThan(500 + 4_000);
    // A second call does not hang either, and close() still runs.
    const [again, againMs] = await elapsed(() => reg.deregister({ timeoutMs: 300 }));
    expect(again.outcome).toBe('timeout');
    expect(againMs).toBeLessThan(300 + 4_000);
    expect((await reg.close()).outcome).toBe('ok');
  });

  it('the signal it is given (the shutdown deadline) cuts deregister short whatever its own timeout', async () => {
    const via = await proxy();
    const target = instance();
    const reg = registry({ endpoints: via.url, instance: target });
    expect((await reg.register()).outcome).toBe('ok');

    await via.setMode('hang');
    const deadline = AbortSignal.timeout(300);
    const [result, wallMs] = await elapsed(() => reg.deregister({ signal: deadline, timeoutMs: 60_000 }));
    expect(result.outcome).toBe('timeout');
    const error = result.error as RegistryTimeoutError;
    expect(error).toBeInstanceOf(RegistryTimeoutError);
    expect(error.ownTimeout).toBe(false);
    expect(error.cause).toBe(deadline.reason);
    expect(wallMs).toBeLessThan(300 + 4_000);

    // An already-aborted signal ends the call at once, without a request.
    const [late, lateMs] = await elapsed(() => reg.deregister({ signal: AbortSignal.abort('too late') }));
    expect(late.outcome).toBe('timeout');
    expect(lateMs).toBeLessThan(4_000);
  });

  it('register against a hung etcd is bounded by its timeout', async () => {
    const server = await hung();
    const reg = registry({ endpoints: server.url, instance: instance() });
    const [result, wallMs] = await elapsed(() => reg.register(undefined, { timeoutMs: 500 }));
    expect(result.outcome).toBe('timeout');
    expect(wallMs).toBeLessThan(500 + 4_000);
    expect(reg.state).toBe('registering');
    expect(server.connections).toBeGreaterThan(0);
  });

  it('a registration that fails at startup is retried in the background until etcd answers', async () => {
    const via = await proxy();
    await via.setMode('refuse');
    const target = instance();
    const lines: string[] = [];
    const reg = registry({ endpoints: via.url, ttlSeconds: 3, instance: target }, lines);
    const result = await reg.register();
    expect(result.outcome).toBe('error');
    expect(result.error).toBeInstanceOf(RegistryUnavailableError);
    expect(reg.state).toBe('registering');
    expect(lines.at(-1)).toMatch(/^quiesce-registry: etcd register error after \d+ms: No etcd endpoint could be reached .*ECONNREFUSED.*; retrying every 1000ms$/);

    await via.setMode('forward');
    const registered = await waitFor(async () => (await getKey(etcd.endpoint, keyOf(target))) !== undefined, 15_000);
    expect(registered).toBeDefined();
    // etcd stores the key before its answer reaches the registry: give the answer time to arrive.
    expect(await waitFor(async () => reg.state === 'registered', 5_000)).toBeDefined();
    expect(reg.state).toBe('registered');
    expect(lines.some((l) => /etcd registered .* after \d+ failed attempts$/.test(l))).toBe(true);
  });

  it('moves to the next endpoint when one refuses and another hangs, and stays on the one that answered', async () => {
    const server = await hung();
    const refused = `http://127.0.0.1:${await closedPort()}`;
    const target = instance();
    const reg = registry({ endpoints: [refused, server.url, etcd.endpoint], instance: target });
    const result = await reg.register(undefined, { timeoutMs: 6_000 });
    expect(result.outcome).toBe('ok');
    expect(await getKey(etcd.endpoint, keyOf(target))).toBeDefined();
    const hungConnections = server.connections;
    expect(hungConnections).toBeGreaterThan(0);

    expect((await reg.deregister()).outcome).toBe('ok');
    expect(await getKey(etcd.endpoint, keyOf(target))).toBeUndefined();
    expect(server.connections).toBe(hungConnections);
  });

  it('reports misuse in the result: register twice, anything after close; deregister before register is a no-op', async () => {
    const target = instance();
    const reg = registry({ instance: target });
    const early = await reg.deregister();
    expect(early).toMatchObject({ outcome: 'ok', entry: undefined });
    expect(reg.state).toBe('idle');

    expect((await reg.register()).outcome).toBe('ok');
    const twice = await reg.register();
    expect(twice.outcome).toBe('error');
    expect(twice.error).toBeInstanceOf(RegistryStateError);
    expect(twice.error?.message).toMatch(/deregister\(\) before registering again/);

    // After deregister, registering again works.
    expect((await reg.deregister()).outcome).toBe('ok');
    expect((await reg.register()).outcome).toBe('ok');
    expect(await getKey(etcd.endpoint, keyOf(target))).toBeDefined();
    expect((await reg.deregister()).outcome).toBe('ok');

    expect((await reg.close()).outcome).toBe('ok');
    const afterClose = await reg.register();
    expect(afterClose.error).toBeInstanceOf(RegistryStateError);
    expect((await reg.deregister()).error).toBeInstanceOf(RegistryStateError);
    expect((await reg.close()).outcome).toBe('ok');
  });

  it('close without deregister stops the keep-alive, so the key expires with its lease', async () => {
    const target = instance();
    const lines: string[] = [];
    const reg = registry({ ttlSeconds: 2, instance: target }, lines);
    await reg.register();
    expect((await reg.close()).outcome).toBe('ok');
    expect(lines.at(-1)).toBe(`quiesce-registry: etcd closed without deregistering ${keyOf(target)}; the key expires with its lease within 2 s`);
    const gone = await waitFor(async () => (await getKey(etcd.endpoint, keyOf(target))) === undefined, 2_000 + 10_000);
    expect(gone).toBeDefined();
  });

  it('stores tags, metadata and a custom id and prefix in the value and key', async () => {
    const target = { ...instance(), host: '::1', id: 'node-a', tags: ['blue'], metadata: { zone: 'a' } };
    const reg = registry({ keyPrefix: '/apps/', instance: target });
    expect((await reg.register()).outcome).toBe('ok');
    const stored = await getKey(etcd.endpoint, `/apps/${target.service}/node-a`);
    expect(JSON.parse(stored!.value)).toEqual({
      service: target.service,
      id: 'node-a',
      address: '[::1]:4000',
      host: '::1',
      port: 4000,
      tags: ['blue'],
      metadata: { zone: 'a' },
    });
  });
});
