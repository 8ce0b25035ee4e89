// No password, token or URL credential from the environment or the options ever reaches an error
// message, an error's fields (what console.error prints), or a log line.
import { spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { createConsulRegistry } from './consul-registry.ts';
import { createEtcdRegistry } from './etcd-registry.ts';
import { RegistryRequestError } from './errors.ts';
import { registryFromEnv } from './registry-from-env.ts';
import { assertBuilt, runtimeBinary } from '@quiesce/test-support';

const SECRET = 's3cret-Xq7';

/** Everything a user would see of what `work` threw: message, fields, causes, as console.error prints them. */
function shown(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    return `${String(error)}\n${inspect(error, { depth: 5 })}`;
  }
  throw new Error('expected an error');
}

describe('secrets in a refused configured value are redacted', () => {
  it.each([
    { ETCD_ENDPOINTS: `http://root:${SECRET}@10.0.0.5:2379` },
    { ETCD_ENDPOINTS: `http://10.0.0.5:2379,https://root:${SECRET}@10.0.0.6:2379` },
    { ETCD_ENDPOINTS: `root:${SECRET}@10.0.0.5:2379` },
    { ETCD_ENDPOINTS: `http://10.0.0.5:2379/?password=${SECRET}` },
    { CONSUL_HTTP_ADDR: `https://acl:${SECRET}@consul:8500` },
    { CONSUL_HTTP_ADDR: `http://consul:8500/v1?token=${SECRET}` },
    { CONSUL_HTTP_ADDR: 'consul:8500', CONSUL_HTTP_TOKEN: `${SECRET} with spaces` },
    { ETCD_ENDPOINTS: 'http://10.0.0.5:2379', ETCD_PASSWORD: SECRET },
    { ETCD_ENDPOINTS: 'http://10.0.0.5:2379', ETCD_USERNAME: 'root', ETCD_PASSWORD: SECRET, QUIESCE_REGISTRY_TTL_S: 'ten' },
  ])('registryFromEnv(%j)', (env) => {
    const text = shown(() => registryFromEnv(env, { service: 'api', host: '127.0.0.1', port: 3000, log: false }));
    expect(text).toMatch(/is invalid/);
    expect(text).not.toContain(SECRET);
  });

  it.each([
    () => createEtcdRegistry({ endpoints: [`http://root:${SECRET}@10.0.0.5:2379`], log: false }),
    () => createEtcdRegistry({ endpoints: `http://h:1/#access_token=${SECRET}`, log: false }),
    () => createConsulRegistry({ address: `http://x:${SECRET}@consul:8500`, log: false }),
    () => createConsulRegistry({ address: 'http://consul:8500', token: `bad ${SECRET}`, log: false }),
  ])('option errors %#', (work) => {
    const text = shown(work);
    expect(text).toMatch(/Invalid/);
    expect(text).not.toContain(SECRET);
  });

  it('a registry answer that echoes a secret is redacted in the error', () => {
    const error = new RegistryRequestError({
      registry: 'etcd',
      request: 'POST /v3/auth/authenticate',
      endpoint: 'http://127.0.0.1:2379/',
      status: 400,
      detail: `bad request {"name":"root","password":"${SECRET}"}`,
    });
    expect(`${error.message} ${error.detail}`).not.toContain(SECRET);
  });
});

describe('registryFromEnv on Deno without env access', () => {
  const deno = runtimeBinary('deno');
  const fixture = new URL('./fixtures/env-probe.mjs', import.meta.url).pathname;
  beforeAll(() => assertBuilt(new URL('../', import.meta.url)));
  const probe = (flags: string[], env: Record<string, string>) => {
    const result = spawnSync(deno, ['run', '--quiet', '--no-prompt', ...flags, fixture], {
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const line = result.stdout.split('\n').find((l) => l.startsWith('probe '));
    return { status: result.status, stderr: result.stderr, probe: line ? JSON.parse(line.slice('probe '.length)) : undefined };
  };

  it('treats the variables as unset and says so in one line, instead of crashing with NotCapable', () => {
    const { status, stderr, probe: result } = probe(['--allow-net=127.0.0.1'], { ETCD_ENDPOINTS: 'http://127.0.0.1:1' });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(result.name).toBeNull();
    expect(result.error).toBeNull();
    expect(result.logged).toHaveLength(1);
    expect(result.logged[0]).toMatch(/^quiesce-registry: no env access to ETCD_ENDPOINTS, .*QUIESCE_ADVERTISE_HOST \(Deno\)/);
    expect(result.logged[0]).toContain('--allow-env=ETCD_ENDPOINTS,ETCD_USERNAME,ETCD_PASSWORD,CONSUL_HTTP_ADDR');
  });

  it('reads what --allow-env grants', () => {
    const { status, probe: result } = probe(['--allow-net=127.0.0.1', '--allow-env'], { ETCD_ENDPOINTS: 'http://127.0.0.1:1' });
    expect(status).toBe(0);
    expect(result).toEqual({ name: 'etcd', logged: [], error: null });
  });
});
