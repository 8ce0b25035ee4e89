import { describe, expect, it } from 'vitest';
import { redactSecrets, redactValue } from './redact-secrets.ts';

describe('redactSecrets hides what a configured value can carry', () => {
  it.each([
    ['http://user:s3cret@10.0.0.1:2379', 'http://***@10.0.0.1:2379'],
    ['https://s3cret@consul:8500/v1', 'https://***@consul:8500/v1'],
    ['http://u:p@ss@host:2379/x', 'http://***@host:2379/x'],
    ['ETCD_ENDPOINTS="http://a:s3cret@h:1,http://b:s3cret@h:2"', 'ETCD_ENDPOINTS="http://***@h:1,http://***@h:2"'],
    ['user:s3cret@10.0.0.1:2379', '***@10.0.0.1:2379'],
    ['endpoint "root:s3cret@etcd:2379" refused', 'endpoint "***@etcd:2379" refused'],
    ['http://consul:8500/?token=s3cret&dc=eu', 'http://consul:8500/?token=***&dc=eu'],
    ['https://x/cb#access_token=s3cret', 'https://x/cb#access_token=***'],
    ['CONSUL_HTTP_TOKEN=s3cret is invalid', 'CONSUL_HTTP_TOKEN=*** is invalid'],
    ['ETCD_PASSWORD="s3 cret" given', 'ETCD_PASSWORD=*** given'],
    ['{"name":"root","password":"s3cret"}', '{"name":"root","password":"***"}'],
    ['authorization: Bearer s3cret', 'authorization: ***'],
    ['sent Bearer s3cret.x-y', 'sent Bearer ***'],
    ['X-Consul-Token: s3cret', 'X-Consul-Token: ***'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
    expect(redactSecrets(input)).not.toContain('s3cret');
  });

  it.each([
    'http://127.0.0.1:2379',
    'ETCD_ENDPOINTS="localhost:2379" is invalid: expected an http:// or https:// URL',
    'etcd registered /services/hello/127.0.0.1:3000 (lease 7587899067489002757, TTL 10 s) in 45ms',
    'QUIESCE_ADVERTISE_HOST=(unset) is invalid: expected this instance\'s own IP address',
    'mail admin@example.com',
    '[::1]:3000',
  ])('leaves %s alone', (text) => {
    expect(redactSecrets(text)).toBe(text);
  });

  it('redacts strings and arrays of strings, and leaves other values alone', () => {
    expect(redactValue(['http://a:s3cret@h:1', 2])).toEqual(['http://***@h:1', 2]);
    expect(redactValue(42)).toBe(42);
  });
});
