// The same fixture (src/fixtures/register-cycle.mjs, importing the BUILT package) in real Node, Bun
// and Deno children against a real etcd: register, keep-alive past the TTL, deregister, close, and
// then the process must exit by itself — nothing the registry started may keep it alive.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Child, assertBuilt, repoRoot } from './test-support/child.ts';
import { getKey, leaseTimeToLive } from './test-support/etcd-api.ts';
import { type EtcdServer, startEtcd } from './test-support/etcd-server.ts';

const fixture = new URL('./fixtures/register-cycle.mjs', import.meta.url).pathname;
/** Generous: a cold Deno or Bun start on a loaded 2-core box can take seconds. */
const READY_MS = 20_000;

const runtimes = [
  { name: 'node', command: process.execPath, args: (a: string[]) => [fixture, ...a] },
  { name: 'bun', command: join(repoRoot, 'node_modules', 'bun', 'bin', 'bun.exe'), args: (a: string[]) => [fixture, ...a] },
  // Only loopback network access: the package needs no other permission.
  {
    name: 'deno',
    command: join(repoRoot, 'node_modules', 'deno', 'deno'),
    args: (a: string[]) => ['run', '--quiet', '--no-prompt', '--allow-net=127.0.0.1', fixture, ...a],
  },
] as const;

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

for (const runtime of runtimes) {
  describe(`on ${runtime.name}`, () => {
    it('registers, keeps the lease alive past its TTL, deregisters, closes, and leaves nothing running', async () => {
      const service = `runtime-${runtime.name}-${process.pid}`;
      const key = `/services/${service}/127.0.0.1:7000`;
      const child = new Child(runtime.command, runtime.args([etcd.endpoint, service]), {}, `${runtime.name} register-cycle`);
      children.push(child);
      const line = await child.line('registered ', READY_MS);
      expect(JSON.parse(line.slice('registered '.length))).toEqual({ runtime: runtime.name, outcome: 'ok', entry: key });

      const first = await getKey(etcd.endpoint, key);
      expect(first).toBeDefined();
      // Past the 3 s TTL: only this runtime's keep-alives (every 1 s) can have kept the lease.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect((await getKey(etcd.endpoint, key))?.lease).toBe(first!.lease);
      expect((await leaseTimeToLive(etcd.endpoint, first!.lease)).ttl).toBeGreaterThan(0);

      child.command('deregister');
      const deregistered = JSON.parse((await child.line('deregistered ', 10_000)).slice('deregistered '.length));
      expect(deregistered).toMatchObject({ outcome: 'ok' });
      expect(await getKey(etcd.endpoint, key)).toBeUndefined();
      expect(await child.line('closed ', 10_000)).toBe('closed ok');
      expect(await child.exited(10_000)).toEqual({ code: 0, signal: null });
    });
  });
}
