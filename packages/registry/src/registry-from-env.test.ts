import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, FakeConsulAgent, getKey, startEtcd } from '@quiesce/test-support';
import { RegistryEnvError, RegistryOptionError } from './errors.ts';
import { registryFromEnv } from './registry-from-env.ts';
import type { ServiceRegistry } from './service-registry.ts';

let etcd: EtcdServer;
let consul: FakeConsulAgent;
beforeAll(async () => {
  etcd = await startEtcd();
  consul = await FakeConsulAgent.start();
});
afterAll(async () => {
  await consul?.close();
  await etcd?.stop();
});

const registries: ServiceRegistry[] = [];
afterEach(async () => {
  for (const registry of registries.splice(0)) await registry.close();
});

const service = 'quiesce-example';
function envError(work: () => unknown): RegistryEnvError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryEnvError);
    return error as RegistryEnvError;
  }
  throw new Error('expected a RegistryEnvError');
}

describe('registryFromEnv', () => {
  it('returns undefined when no registry is configured (unset or empty)', () => {
    expect(registryFromEnv({}, { service })).toBeUndefined();
    expect(registryFromEnv({ ETCD_ENDPOINTS: '', CONSUL_HTTP_ADDR: '  ' }, { service, host: '127.0.0.1', port: 3000 })).toBeUndefined();
  });

  it('ETCD_ENDPOINTS registers /services/quiesce-example/<host>:<port> with the address in a JSON value', async () => {
    const registry = registryFromEnv({ ETCD_ENDPOINTS: ` ${etcd.endpoint} ` }, { service, host: '127.0.0.1', port: 3101, log: false });
    expect(registry?.name).toBe('etcd');
    registries.push(registry!);
    const result = await registry!.register();
    expect(result).toMatchObject({ outcome: 'ok', entry: '/services/quiesce-example/127.0.0.1:3101' });
    const stored = await getKey(etcd.endpoint, '/services/quiesce-example/127.0.0.1:3101');
    expect(JSON.parse(stored!.value)).toMatchObject({ service, address: '127.0.0.1:3101', host: '127.0.0.1', port: 3101 });
    expect((await registry!.deregister()).outcome).toBe('ok');
    expect(await getKey(etcd.endpoint, '/services/quiesce-example/127.0.0.1:3101')).toBeUndefined();
  });

  it('QUIESCE_ADVERTISE_HOST replaces a wildcard HOST, and without it a wildcard is refused naming the variable', async () => {
    const error = envError(() => registryFromEnv({ ETCD_ENDPOINTS: etcd.endpoint }, { service, host: '0.0.0.0', port: 3102 }));
    expect(error.variable).toBe('QUIESCE_ADVERTISE_HOST');
    expect(error.code).toBe('QUIESCE_REGISTRY_INVALID_ENV');
    expect(error.message).toMatch(/^QUIESCE_ADVERTISE_HOST=\(unset\) is invalid: expected .*wildcard "0\.0\.0\.0"/);

    const registry = registryFromEnv(
      { ETCD_ENDPOINTS: etcd.endpoint, QUIESCE_ADVERTISE_HOST: '10.1.2.3' },
      { service, host: '0.0.0.0', port: 3102, log: false },
    )!;
    registries.push(registry);
    expect((await registry.register()).entry).toBe('/services/quiesce-example/10.1.2.3:3102');
    await registry.deregister();
  });

  it('without host and port it validates the environment now and takes the instance at register()', async () => {
    const registry = registryFromEnv({ ETCD_ENDPOINTS: etcd.endpoint, QUIESCE_REGISTRY_TTL_S: '5' }, { service, log: false })!;
    registries.push(registry);
    expect(() => registry.register()).toThrow(RegistryOptionError);
    const result = await registry.register({ service, host: '127.0.0.1', port: 3103 });
    expect(result.outcome).toBe('ok');
    await registry.deregister();
  });

  it('CONSUL_HTTP_ADDR (host:port, as Consul’s CLI takes it) and CONSUL_HTTP_TOKEN configure the Consul agent', async () => {
    const address = consul.url.replace('http://', '');
    const registry = registryFromEnv(
      { CONSUL_HTTP_ADDR: address, CONSUL_HTTP_TOKEN: 'abc-123' },
      { service, host: '127.0.0.1', port: 3104, log: false },
    )!;
    registries.push(registry);
    expect(registry.name).toBe('consul');
    expect((await registry.register()).outcome).toBe('ok');
    const registered = consul.requests.find((r) => r.path === '/v1/agent/service/register' && (r.body as { Port: number }).Port === 3104);
    expect(registered?.headers['x-consul-token']).toBe('abc-123');
    expect(registered?.body).toMatchObject({ ID: 'quiesce-example:127.0.0.1:3104', Name: service, Address: '127.0.0.1', Port: 3104 });
    expect((await registry.deregister()).outcome).toBe('ok');
    expect(consul.violations).toEqual([]);
  });

  it('with both set, registers in both and reports one combined result', async () => {
    const registry = registryFromEnv(
      { ETCD_ENDPOINTS: etcd.endpoint, CONSUL_HTTP_ADDR: consul.url },
      { service, host: '127.0.0.1', port: 3105, log: false },
    )!;
    registries.push(registry);
    expect(registry.name).toBe('etcd+consul');
    const result = await registry.register();
    expect(result).toMatchObject({
      registry: 'etcd+consul',
      outcome: 'ok',
      entry: 'etcd /services/quiesce-example/127.0.0.1:3105, consul quiesce-example:127.0.0.1:3105',
    });
    expect(registry.state).toBe('registered');
    expect(await getKey(etcd.endpoint, '/services/quiesce-example/127.0.0.1:3105')).toBeDefined();
    expect(consul.services.has('quiesce-example:127.0.0.1:3105')).toBe(true);

    const deregistered = await registry.deregister();
    expect(deregistered.outcome).toBe('ok');
    expect(await getKey(etcd.endpoint, '/services/quiesce-example/127.0.0.1:3105')).toBeUndefined();
    expect(consul.services.has('quiesce-example:127.0.0.1:3105')).toBe(false);
  });

  it('a bad value throws a RegistryEnvError naming the variable (secrets are not echoed)', () => {
    const at = { service, host: '127.0.0.1', port: 3000 };
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ ETCD_ENDPOINTS: 'localhost:2379' }, 'ETCD_ENDPOINTS', /^ETCD_ENDPOINTS="localhost:2379" is invalid: expected an http:\/\/ or https:\/\/ URL/],
      [{ ETCD_ENDPOINTS: 'http://a:2379,,http://b:2379' }, 'ETCD_ENDPOINTS', /without empty items/],
      [{ ETCD_ENDPOINTS: 'http://a:2379', ETCD_USERNAME: 'svc' }, 'ETCD_PASSWORD', /^ETCD_PASSWORD=\(unset\) is invalid: expected the password of ETCD_USERNAME "svc"/],
      [{ ETCD_ENDPOINTS: 'http://a:2379', ETCD_PASSWORD: 'hunter2' }, 'ETCD_USERNAME', /expected a user name, since ETCD_PASSWORD is set/],
      [{ ETCD_ENDPOINTS: 'http://a:2379', QUIESCE_REGISTRY_TTL_S: '0' }, 'QUIESCE_REGISTRY_TTL_S', /"0" is invalid: expected a whole number of seconds from 1 to 86400/],
      [{ ETCD_ENDPOINTS: 'http://a:2379', QUIESCE_REGISTRY_TTL_S: '10s' }, 'QUIESCE_REGISTRY_TTL_S', /"10s"/],
      [{ CONSUL_HTTP_ADDR: 'unix:///var/run/consul.sock' }, 'CONSUL_HTTP_ADDR', /unix sockets are not supported/],
      [{ CONSUL_HTTP_ADDR: 'ftp://consul:8500' }, 'CONSUL_HTTP_ADDR', /"ftp:\/\/consul:8500" is invalid/],
      [{ CONSUL_HTTP_ADDR: '127.0.0.1:8500', CONSUL_HTTP_SSL: 'yes' }, 'CONSUL_HTTP_SSL', /expected "true" or "false"/],
      [{ CONSUL_HTTP_ADDR: '127.0.0.1:8500', CONSUL_HTTP_TOKEN: 'has space' }, 'CONSUL_HTTP_TOKEN', /^CONSUL_HTTP_TOKEN="\(hidden\)" is invalid/],
    ];
    for (const [env, variable, message] of cases) {
      const error = envError(() => registryFromEnv(env, at));
      expect([variable, error.variable]).toEqual([variable, variable]);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('hunter2');
      expect(error.message).not.toContain('has space');
    }
  });

  it('CONSUL_HTTP_SSL=true means https for a bare host:port', () => {
    // Built, not used: the scheme shows in the error for a bad port, which proves the URL it made.
    const registry = registryFromEnv({ CONSUL_HTTP_ADDR: 'consul.internal:8501', CONSUL_HTTP_SSL: 'true' }, { service, log: false });
    expect(registry?.name).toBe('consul');
    const error = envError(() => registryFromEnv({ CONSUL_HTTP_ADDR: 'consul.internal:99999', CONSUL_HTTP_SSL: 'true' }, { service }));
    expect(error.message).toMatch(/^CONSUL_HTTP_ADDR="consul\.internal:99999" is invalid/);
    expect((error.cause as RegistryOptionError).value).toBe('https://consul.internal:99999');
  });

  it('bad options from the application throw a RegistryOptionError', () => {
    expect(() => registryFromEnv({ ETCD_ENDPOINTS: 'http://a:2379' }, { service: 'has/slash' })).toThrow(
      /^Invalid service: "has\/slash"\. Expected a non-empty string without whitespace or "\/"\.$/,
    );
    expect(() => registryFromEnv({ ETCD_ENDPOINTS: 'http://a:2379' }, { service, host: '127.0.0.1', port: 0 })).toThrow(
      /^Invalid instance\.port: 0\. Expected a whole number from 1 to 65535\.$/,
    );
    expect(() => registryFromEnv(null as never, { service })).toThrow(RegistryOptionError);
  });
});
