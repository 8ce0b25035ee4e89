// etcd with authentication enabled, on its own etcd process (auth is cluster-wide, so the other
// suites keep theirs open): a root user with the root role, a service user whose role may write
// only under /services/, then `auth enable`, all through etcd's JSON gateway.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, enableAuth, etcdPost, type EtcdServer, getKey, leaseTimeToLive, startEtcd } from '@quiesce/test-support';
import { createEtcdRegistry } from './etcd-registry.ts';
import { RegistryRequestError } from './errors.ts';
import type { ServiceRegistry } from './service-registry.ts';

const ROOT_PASSWORD = 'root-secret';
const USER = 'quiesce';
const PASSWORD = 'service-secret';

let etcd: EtcdServer;
let rootToken: string;
beforeAll(async () => {
  etcd = await startEtcd();
  await enableAuth(etcd.endpoint, { rootPassword: ROOT_PASSWORD, user: USER, password: PASSWORD, prefix: '/services/' });
  rootToken = await authenticate(etcd.endpoint, 'root', ROOT_PASSWORD);
});
afterAll(async () => {
  await etcd?.stop();
});

const registries: ServiceRegistry[] = [];
afterEach(async () => {
  for (const registry of registries.splice(0)) await registry.close();
});

let serial = 0;
function setup(auth?: { username: string; password: string }, keyPrefix?: string) {
  const target = { service: `auth-${++serial}`, host: '127.0.0.1', port: 5000 };
  const lines: string[] = [];
  // The real fetch, with the paths it was asked for written down.
  const paths: string[] = [];
  const registry = createEtcdRegistry({
    endpoints: etcd.endpoint,
    instance: target,
    log: (line) => lines.push(line),
    fetch: (input, init) => {
      paths.push(new URL(String(input)).pathname);
      return fetch(input, init);
    },
    ...(auth ? { auth } : {}),
    ...(keyPrefix ? { keyPrefix } : {}),
  });
  registries.push(registry);
  return { registry, key: `${keyPrefix ?? '/services'}/${target.service}/127.0.0.1:5000`, lines, paths };
}

describe('etcd registry with authentication', () => {
  it('authenticates, registers under its permitted prefix and deregisters', async () => {
    const { registry, key } = setup({ username: USER, password: PASSWORD });
    expect((await registry.register()).outcome).toBe('ok');
    const stored = await getKey(etcd.endpoint, key, rootToken);
    expect(stored).toBeDefined();
    expect((await leaseTimeToLive(etcd.endpoint, stored!.lease, rootToken)).keys).toEqual([key]);

    expect((await registry.deregister()).outcome).toBe('ok');
    expect(await getKey(etcd.endpoint, key, rootToken)).toBeUndefined();
  });

  it('without credentials, or with a wrong password, registration fails with etcd’s own message', async () => {
    const anonymous = setup();
    const result = await anonymous.registry.register();
    expect(result.outcome).toBe('error');
    expect(result.error).toBeInstanceOf(RegistryRequestError);
    expect(result.error?.message).toMatch(/user name is empty/);
    expect(await getKey(etcd.endpoint, anonymous.key, rootToken)).toBeUndefined();

    const wrong = setup({ username: USER, password: 'nope' });
    const refused = await wrong.registry.register();
    expect(refused.outcome).toBe('error');
    expect(refused.error?.message).toMatch(/POST \/v3\/auth\/authenticate .*authentication failed/);
    expect(refused.error?.message).not.toContain('nope');
  });

  it('outside its permitted prefix etcd says permission denied', async () => {
    const { registry } = setup({ username: USER, password: PASSWORD }, '/elsewhere');
    const result = await registry.register();
    expect(result.outcome).toBe('error');
    expect((result.error as RegistryRequestError).grpcCode).toBe(7);
    expect(result.error?.message).toMatch(/permission denied/);
  });

  it('authenticates again when etcd no longer accepts its token', async () => {
    const { registry, key, paths } = setup({ username: USER, password: PASSWORD });
    expect((await registry.register()).outcome).toBe('ok');
    expect(paths).toEqual(['/v3/auth/authenticate', '/v3/lease/grant', '/v3/kv/put']);

    // Deleting and re-adding the user invalidates every token etcd issued to it.
    await etcdPost(etcd.endpoint, '/v3/auth/user/delete', { name: USER }, rootToken);
    await etcdPost(etcd.endpoint, '/v3/auth/user/add', { name: USER, password: PASSWORD }, rootToken);
    await etcdPost(etcd.endpoint, '/v3/auth/user/grant', { user: USER, role: 'services' }, rootToken);

    // Revoking a lease that holds a key needs a valid token: the first try gets "invalid auth token".
    paths.length = 0;
    const result = await registry.deregister();
    expect(result.outcome).toBe('ok');
    // (A keep-alive may have run meanwhile on a slow box; etcd 3.4 does not check tokens on keep-alives.)
    expect(paths.filter((p) => p !== '/v3/lease/keepalive')).toEqual(['/v3/lease/revoke', '/v3/auth/authenticate', '/v3/lease/revoke']);
    expect(await getKey(etcd.endpoint, key, rootToken)).toBeUndefined();
  });
});
