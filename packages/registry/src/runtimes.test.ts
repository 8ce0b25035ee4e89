// The same fixture (src/fixtures/register-cycle.mjs, importing the BUILT package) in real Node, Bun
// and Deno children against a real etcd: register, keep-alive past the TTL, deregister, close, and
// then the process must exit by itself — nothing the registry started may keep it alive.
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, type EtcdServer, getKey, killAllChildren, leaseTimeToLive, runtimeCommand, runtimesUnderTest, startChild, startEtcd } from '@quiesce/test-support';

const packageDir = fileURLToPath(new URL('../', import.meta.url));
const fixture = new URL('./fixtures/register-cycle.mjs', import.meta.url).pathname;
/** Generous: a cold Deno or Bun start on a loaded 2-core box can take seconds. */
const READY_MS = 20_000;
// Only loopback network access on Deno: the package needs no other permission.
const DENO_PERMISSIONS = ['--no-prompt', '--allow-net=127.0.0.1'];

let etcd: EtcdServer;
beforeAll(async () => {
  assertBuilt(packageDir);
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

afterEach(() => killAllChildren());

for (const runtime of runtimesUnderTest()) {
  describe(`on ${runtime}`, () => {
    it('registers, keeps the lease alive past its TTL, deregisters, closes, and leaves nothing running', async () => {
      const service = `runtime-${runtime}-${process.pid}`;
      const key = `/services/${service}/127.0.0.1:7000`;
      const command = runtimeCommand(runtime, fixture, [etcd.endpoint, service], { denoPermissions: DENO_PERMISSIONS });
      const child = startChild(command, { stdin: 'pipe', cwd: packageDir, name: `${runtime} register-cycle` });
      const line = await child.waitForLine(/^registered /, READY_MS);
      expect(child.stdout).toContain(line);
      expect(JSON.parse(line.slice('registered '.length))).toEqual({ runtime, outcome: 'ok', entry: key });

      const first = await getKey(etcd.endpoint, key);
      expect(first).toBeDefined();
      // Past the 3 s TTL: only this runtime's keep-alives (every 1 s) can have kept the lease.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect((await getKey(etcd.endpoint, key))?.lease).toBe(first!.lease);
      expect((await leaseTimeToLive(etcd.endpoint, first!.lease)).ttl).toBeGreaterThan(0);

      child.write('deregister');
      const deregistered = JSON.parse((await child.waitForLine(/^deregistered /, 10_000)).slice('deregistered '.length));
      expect(deregistered).toMatchObject({ outcome: 'ok' });
      expect(await getKey(etcd.endpoint, key)).toBeUndefined();
      expect(await child.waitForLine(/^closed /, 10_000)).toBe('closed ok');
      expect(await child.waitForExit(10_000)).toMatchObject({ code: 0, signal: null });
    });
  });
}
