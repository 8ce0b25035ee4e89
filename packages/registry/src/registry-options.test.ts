import { describe, expect, it } from 'vitest';
import { createConsulRegistry } from './consul-registry.ts';
import { createEtcdRegistry } from './etcd-registry.ts';
import { RegistryOptionError } from './errors.ts';

const endpoints = 'http://127.0.0.1:2379';
const instance = { service: 'api', host: '127.0.0.1', port: 3000 };

function optionError(work: () => unknown): RegistryOptionError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryOptionError);
    return error as RegistryOptionError;
  }
  throw new Error('expected a RegistryOptionError');
}

describe('every public option is validated, naming the option and the value', () => {
  it('etcd factory options', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ endpoints: [] }, 'endpoints', 'Invalid endpoints: []. Expected a URL or a non-empty array of URLs such as "http://127.0.0.1:2379".'],
      [{ endpoints: 42 }, 'endpoints', 'Invalid endpoints: 42.'],
      [{ endpoints: ['127.0.0.1:2379'] }, 'endpoints[0]', 'Invalid endpoints[0]: "127.0.0.1:2379". Expected an http:// or https:// URL'],
      [{ endpoints: [endpoints, 'http://u:p@h:2379'] }, 'endpoints[1]', 'Invalid endpoints[1]: "http://***@h:2379".'],
      [{ endpoints: 'http://h:2379/?x=1' }, 'endpoints[0]', 'Invalid endpoints[0]'],
      [{ endpoints, ttlSeconds: 0 }, 'ttlSeconds', 'Invalid ttlSeconds: 0. Expected a whole number of seconds from 1 to 9000000000.'],
      [{ endpoints, ttlSeconds: 2.5 }, 'ttlSeconds', 'Invalid ttlSeconds: 2.5.'],
      [{ endpoints, ttlSeconds: '10' }, 'ttlSeconds', 'Invalid ttlSeconds: "10".'],
      [{ endpoints, ttlSeconds: 3, keepAliveIntervalMs: 3000 }, 'keepAliveIntervalMs', 'Invalid keepAliveIntervalMs: 3000. Expected less than the lease TTL (3000 ms).'],
      [{ endpoints, keepAliveIntervalMs: Number.NaN }, 'keepAliveIntervalMs', 'Invalid keepAliveIntervalMs: NaN. Expected a finite number of milliseconds > 0.'],
      [{ endpoints, timeoutMs: 0 }, 'timeoutMs', 'Invalid timeoutMs: 0. Expected a finite number of milliseconds > 0.'],
      [{ endpoints, timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs', 'Invalid timeoutMs: Infinity.'],
      [{ endpoints, keyPrefix: 'a b' }, 'keyPrefix', 'Invalid keyPrefix: "a b".'],
      [{ endpoints, auth: 'root:pw' }, 'auth', 'Invalid auth: "root:pw". Expected an object.'],
      [{ endpoints, auth: { username: '', password: 'x' } }, 'auth.username', 'Invalid auth.username: "".'],
      [{ endpoints, auth: { username: 'u', password: 42 } }, 'auth.password', 'Invalid auth.password: "number". Expected a string.'],
      [{ endpoints, log: 'console' }, 'log', 'Invalid log: "console". Expected a function that takes one line of text, or false for silence.'],
      [{ endpoints, clock: { now: () => 0 } }, 'clock', 'Invalid clock: {}. Expected an object with now(), setTimeout() and clearTimeout().'],
      [{ endpoints, fetch: 'fetch' }, 'fetch', 'Invalid fetch: "fetch". Expected a fetch function.'],
      [{ endpoints, instance: { ...instance, host: '0.0.0.0' } }, 'instance.host', 'Invalid instance.host: "0.0.0.0". Expected this instance\'s own IP address'],
      [{ endpoints, instance: { ...instance, host: '[::]' } }, 'instance.host', 'Invalid instance.host: "[::]".'],
      [{ endpoints, instance: { ...instance, host: 'a b' } }, 'instance.host', 'Invalid instance.host: "a b". Expected an IP address or DNS name that clients can reach.'],
      [{ endpoints, instance: { ...instance, port: 70_000 } }, 'instance.port', 'Invalid instance.port: 70000. Expected a whole number from 1 to 65535.'],
      [{ endpoints, instance: { ...instance, service: '' } }, 'instance.service', 'Invalid instance.service: "".'],
      [{ endpoints, instance: { ...instance, id: 'a/b' } }, 'instance.id', 'Invalid instance.id: "a/b".'],
      [{ endpoints, instance: { ...instance, tags: ['ok', ''] } }, 'instance.tags', 'Invalid instance.tags: ["ok",""]. Expected an array of non-empty strings.'],
      [{ endpoints, instance: { ...instance, metadata: { n: 1 } } }, 'instance.metadata.n', 'Invalid instance.metadata.n: 1. Expected a string.'],
    ];
    for (const [options, option, message] of cases) {
      const error = optionError(() => createEtcdRegistry(options as never));
      expect([option, error.option]).toEqual([option, option]);
      expect(error.message.startsWith(message)).toBe(true);
      expect(error.code).toBe('QUIESCE_REGISTRY_INVALID_OPTION');
    }
    expect(optionError(() => createEtcdRegistry(undefined as never)).option).toBe('options');
  });

  it('consul factory options (the token is never echoed)', () => {
    const address = 'http://127.0.0.1:8500';
    const cases: [Record<string, unknown>, string, string][] = [
      [{}, 'address', 'Invalid address: undefined.'],
      [{ address: '127.0.0.1:8500' }, 'address', 'Invalid address: "127.0.0.1:8500".'],
      [{ address, token: 'with space' }, 'token', 'Invalid token: "string". Expected a non-empty string of visible ASCII characters.'],
      [{ address, token: '' }, 'token', 'Invalid token: "string".'],
      [{ address, ttlSeconds: 100_000 }, 'ttlSeconds', 'Invalid ttlSeconds: 100000. Expected a whole number of seconds from 1 to 86400.'],
      [{ address, deregisterCriticalAfterSeconds: 30 }, 'deregisterCriticalAfterSeconds', 'Invalid deregisterCriticalAfterSeconds: 30. Expected a whole number of seconds from 60'],
      [{ address, keepAliveIntervalMs: 20_000 }, 'keepAliveIntervalMs', 'Invalid keepAliveIntervalMs: 20000. Expected less than the check TTL (10000 ms).'],
    ];
    for (const [options, option, message] of cases) {
      const error = optionError(() => createConsulRegistry(options as never));
      expect([option, error.option]).toEqual([option, option]);
      expect(error.message.startsWith(message)).toBe(true);
      expect(error.message).not.toContain('with space');
    }
    expect(() => createConsulRegistry({ address, deregisterCriticalAfterSeconds: false, log: false })).not.toThrow();
  });

  it('call arguments: thrown synchronously, before anything starts', () => {
    const registry = createEtcdRegistry({ endpoints, log: false });
    expect(optionError(() => registry.register()).option).toBe('instance');
    expect(optionError(() => registry.register({ ...instance, port: -1 })).option).toBe('instance.port');
    expect(optionError(() => registry.register(instance, { timeoutMs: -5 })).message).toBe(
      'Invalid timeoutMs: -5. Expected a finite number of milliseconds > 0.',
    );
    expect(optionError(() => registry.deregister({ signal: 'abort' as never })).option).toBe('signal');
    expect(optionError(() => registry.deregister(null as never)).option).toBe('options');
    expect(optionError(() => registry.close({ timeoutMs: Number.NaN })).option).toBe('timeoutMs');
    expect(registry.state).toBe('idle');
  });
});
