import { describe, expect, it } from 'vitest';
import {
  RegistryEnvError,
  RegistryOptionError,
  RegistryRequestError,
  RegistryStateError,
  RegistryTimeoutError,
  RegistryUnavailableError,
} from './errors.ts';

describe('errors', () => {
  it('carry a name, a stable code and an optional cause', () => {
    const cause = new Error('root');
    const errors = [
      [new RegistryOptionError('ttlSeconds', 0, 'a whole number', { cause }), 'RegistryOptionError', 'QUIESCE_REGISTRY_INVALID_OPTION'],
      [new RegistryEnvError('ETCD_ENDPOINTS', 'x', 'URLs', { cause }), 'RegistryEnvError', 'QUIESCE_REGISTRY_INVALID_ENV'],
      [new RegistryTimeoutError('etcd', 'deregister', 2000, true, { cause }), 'RegistryTimeoutError', 'QUIESCE_REGISTRY_TIMEOUT'],
      [new RegistryUnavailableError('etcd', [{ endpoint: 'http://a/', error: cause }], { cause }), 'RegistryUnavailableError', 'QUIESCE_REGISTRY_UNAVAILABLE'],
      [
        new RegistryRequestError({ registry: 'etcd', request: 'POST /v3/kv/put', endpoint: 'http://a/', status: 403, detail: 'denied' }, { cause }),
        'RegistryRequestError',
        'QUIESCE_REGISTRY_REQUEST_FAILED',
      ],
      [new RegistryStateError('closed', 'closed', { cause }), 'RegistryStateError', 'QUIESCE_REGISTRY_STATE'],
    ] as const;
    for (const [error, name, code] of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(error.cause).toBe(cause);
      expect(String(error)).toMatch(new RegExp(`^${name}: `));
    }
  });

  it('tell the user what to do', () => {
    expect(new RegistryTimeoutError('etcd', 'deregister', 2000, true).message).toBe(
      'etcd deregister did not finish within its timeout of 2000 ms and was abandoned; check that the registry is reachable, or raise timeoutMs.',
    );
    const deadline = new Error('The shutdown deadline of 5000 ms passed');
    expect(new RegistryTimeoutError('consul', 'deregister', 2000, false, { cause: deadline }).message).toBe(
      'consul deregister was cut short by its AbortSignal (The shutdown deadline of 5000 ms passed) and abandoned; allow it more of the shutdown deadline.',
    );
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    const unavailable = new RegistryUnavailableError('etcd', [{ endpoint: 'http://127.0.0.1:1/', error: refused }]);
    expect(unavailable.message).toBe(
      'No etcd endpoint could be reached (http://127.0.0.1:1/: fetch failed (connect ECONNREFUSED 127.0.0.1:1)). Check that etcd is running and that the endpoints are right.',
    );
    expect(unavailable.cause).toBeInstanceOf(AggregateError);
    expect(unavailable.endpoints).toEqual(['http://127.0.0.1:1/']);
    expect(new RegistryEnvError('ETCD_PASSWORD', undefined, 'a password').message).toBe('ETCD_PASSWORD=(unset) is invalid: expected a password.');
    expect(
      new RegistryRequestError({ registry: 'etcd', request: 'POST /v3/kv/put', endpoint: 'http://a/', status: 403, grpcCode: 7, detail: 'etcdserver: permission denied' })
        .message,
    ).toBe('etcd answered POST /v3/kv/put on http://a/ with HTTP 403, gRPC code 7: etcdserver: permission denied');
  });

  it('describe odd option values without throwing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const shown = (value: unknown): string => new RegistryOptionError('x', value, 'something').message;
    expect(shown(Number.NaN)).toBe('Invalid x: NaN. Expected something.');
    expect(shown(undefined)).toBe('Invalid x: undefined. Expected something.');
    expect(shown(10n)).toBe('Invalid x: 10n. Expected something.');
    expect(shown(function fetcher() {})).toBe('Invalid x: function fetcher. Expected something.');
    expect(shown(new URL('http://a'))).toBe('Invalid x: a URL instance. Expected something.');
    expect(shown(cyclic)).toBe('Invalid x: [object Object]. Expected something.');
  });
});
