import { type Clock, envReadPermitted } from '@quiesce/core';
import { createConsulRegistry } from './consul-registry.ts';
import { createEtcdRegistry } from './etcd-registry.ts';
import { RegistryEnvError, RegistryOptionError, check } from './errors.ts';
import { combineRegistries } from './internal/combined-registry.ts';
import { assertName } from './internal/options.ts';
import type { FetchFunction, ServiceInstance, ServiceRegistry } from './service-registry.ts';

/** Options for {@link registryFromEnv}: the instance (all but `service` optional) and the shared knobs. */
export interface RegistryFromEnvOptions {
  /** The service's name, e.g. `quiesce-example`. */
  service: string;
  /**
   * The host the server listens on (the example's `HOST`); `QUIESCE_ADVERTISE_HOST` overrides it,
   * and must be set when this is a wildcard such as `0.0.0.0`. With `port`, it makes the instance
   * `register()` announces; without, pass the instance to `register()`.
   */
  host?: string;
  /** The port the server listens on: the real one, after `listen`. */
  port?: number;
  /** The instance's id (see {@link ServiceInstance.id}). */
  id?: string;
  tags?: readonly string[];
  metadata?: Readonly<Record<string, string>>;
  /** Default time limit of each call, in ms. Default 2000. */
  timeoutMs?: number;
  log?: ((line: string) => void) | false;
  clock?: Clock;
  fetch?: FetchFunction;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0', '::0', '']);

/** Every variable {@link registryFromEnv} reads. */
const REGISTRY_VARIABLES: readonly string[] = [
  'ETCD_ENDPOINTS',
  'ETCD_USERNAME',
  'ETCD_PASSWORD',
  'CONSUL_HTTP_ADDR',
  'CONSUL_HTTP_SSL',
  'CONSUL_HTTP_TOKEN',
  'QUIESCE_REGISTRY_TTL_S',
  'QUIESCE_ADVERTISE_HOST',
];

/**
 * Builds the registry the environment asks for, or returns `undefined` when it asks for none:
 * - `ETCD_ENDPOINTS` — comma-separated etcd client URLs (`http://10.0.0.5:2379,http://10.0.0.6:2379`);
 *   `ETCD_USERNAME` and `ETCD_PASSWORD` for etcd authentication (both or neither). The key is
 *   `/services/<service>/<host>:<port>`.
 * - `CONSUL_HTTP_ADDR` — the Consul agent (`127.0.0.1:8500` or a URL; `CONSUL_HTTP_SSL=true` means
 *   https when no scheme is given); `CONSUL_HTTP_TOKEN` the ACL token.
 * - `QUIESCE_REGISTRY_TTL_S` — lease / check TTL in whole seconds, default 10.
 * - `QUIESCE_ADVERTISE_HOST` — the address clients should use, when it is not `host`.
 *
 * With both `ETCD_ENDPOINTS` and `CONSUL_HTTP_ADDR` set, the instance registers in both. Throws
 * {@link RegistryEnvError} naming the variable when a value is unusable (secrets are not echoed:
 * passwords and tokens are hidden, URL credentials redacted), and {@link RegistryOptionError} for a
 * bad `options` field. On Deno, a variable of `process.env` without env permission (`--allow-env`)
 * is treated as unset, and one line on `log` names the skipped variables and the flag that reads them.
 *
 * @example
 * ```ts
 * server.listen(port, host, async () => {
 *   const registry = registryFromEnv(process.env, { service: 'quiesce-example', host, port: server.address().port });
 *   if (registry) {
 *     lifecycle.onDeregister('registry', (signal) => registry.deregister({ signal }));
 *     lifecycle.onCleanup('registry', (signal) => registry.close({ signal }));
 *     await registry.register();
 *   }
 * });
 * ```
 */
export function registryFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: RegistryFromEnvOptions,
): ServiceRegistry | undefined {
  check.object('env', env);
  check.object('options', options);
  assertName('service', options.service, true);
  const skipped = REGISTRY_VARIABLES.filter((name) => !envReadPermitted(name, env));
  const raw = (name: string): string | undefined => (skipped.includes(name) ? undefined : env[name]);
  if (skipped.length > 0 && options.log !== false) {
    (options.log ?? console.log)(
      `quiesce-registry: no env access to ${skipped.join(', ')} (Deno), so they count as unset; ` +
        `to register from them, run with --allow-env=${REGISTRY_VARIABLES.join(',')}`,
    );
  }
  const read = (name: string): string | undefined => {
    const value = raw(name);
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const etcdEndpoints = read('ETCD_ENDPOINTS');
  const consulAddress = read('CONSUL_HTTP_ADDR');
  if (etcdEndpoints === undefined && consulAddress === undefined) return undefined;

  const ttlRaw = read('QUIESCE_REGISTRY_TTL_S');
  let ttlSeconds = 10;
  if (ttlRaw !== undefined) {
    ttlSeconds = Number(ttlRaw);
    if (!/^\d+$/.test(ttlRaw) || ttlSeconds < 1 || ttlSeconds > 86_400) {
      throw new RegistryEnvError('QUIESCE_REGISTRY_TTL_S', ttlRaw, 'a whole number of seconds from 1 to 86400');
    }
  }
  const instance = instanceFrom(options, read('QUIESCE_ADVERTISE_HOST'));
  const common = {
    instance,
    ttlSeconds,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };

  const registries: ServiceRegistry[] = [];
  if (etcdEndpoints !== undefined) {
    const endpoints = etcdEndpoints.split(',').map((s) => s.trim());
    if (endpoints.some((s) => s === '')) {
      throw new RegistryEnvError('ETCD_ENDPOINTS', etcdEndpoints, 'comma-separated http(s) URLs such as "http://127.0.0.1:2379", without empty items');
    }
    const username = read('ETCD_USERNAME');
    const password = raw('ETCD_PASSWORD');
    if (username === undefined && password !== undefined && password !== '') {
      throw new RegistryEnvError('ETCD_USERNAME', undefined, 'a user name, since ETCD_PASSWORD is set');
    }
    if (username !== undefined && (password === undefined || password === '')) {
      throw new RegistryEnvError('ETCD_PASSWORD', undefined, `the password of ETCD_USERNAME ${JSON.stringify(username)}`);
    }
    registries.push(
      fromOptions(raw, () =>
        createEtcdRegistry({ ...common, endpoints, ...(username === undefined ? {} : { auth: { username, password: password! } }) }),
      ),
    );
  }
  if (consulAddress !== undefined) {
    const address = consulUrl(consulAddress, read('CONSUL_HTTP_SSL'));
    const token = read('CONSUL_HTTP_TOKEN');
    registries.push(fromOptions(raw, () => createConsulRegistry({ ...common, address, ...(token === undefined ? {} : { token }) })));
  }
  return registries.length === 1 ? registries[0] : combineRegistries(registries);
}

/** Builds the default instance when `host` and `port` are known, applying `QUIESCE_ADVERTISE_HOST`. */
function instanceFrom(options: RegistryFromEnvOptions, advertise: string | undefined): ServiceInstance | undefined {
  const host = advertise ?? options.host;
  if (host === undefined || options.port === undefined) return undefined;
  if (WILDCARDS.has(host)) {
    throw new RegistryEnvError(
      'QUIESCE_ADVERTISE_HOST',
      advertise,
      `this instance's own IP address or DNS name: the server listens on the wildcard ${JSON.stringify(host)}, which clients cannot reach`,
    );
  }
  return {
    service: options.service,
    host,
    port: options.port,
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.tags === undefined ? {} : { tags: options.tags }),
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
  };
}

/** `CONSUL_HTTP_ADDR` as Consul's own CLI reads it: a URL, or `host:port` with the scheme from `CONSUL_HTTP_SSL`. */
function consulUrl(raw: string, ssl: string | undefined): string {
  if (ssl !== undefined && !/^(true|false|1|0)$/i.test(ssl)) throw new RegistryEnvError('CONSUL_HTTP_SSL', ssl, '"true" or "false"');
  if (/^unix:/i.test(raw)) throw new RegistryEnvError('CONSUL_HTTP_ADDR', raw, 'an http(s) address; unix sockets are not supported by fetch');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return raw;
  return `${ssl !== undefined && /^(true|1)$/i.test(ssl) ? 'https' : 'http'}://${raw}`;
}

/** Which variable an option came from, so that an option error names what the user set. */
const VARIABLES: readonly [RegExp, string, boolean][] = [
  [/^endpoints/, 'ETCD_ENDPOINTS', false],
  [/^auth\.username$/, 'ETCD_USERNAME', false],
  [/^auth\.password$/, 'ETCD_PASSWORD', true],
  [/^address$/, 'CONSUL_HTTP_ADDR', false],
  [/^token$/, 'CONSUL_HTTP_TOKEN', true],
  [/^ttlSeconds$|^keepAliveIntervalMs$/, 'QUIESCE_REGISTRY_TTL_S', false],
  [/^instance\.host$/, 'QUIESCE_ADVERTISE_HOST', false],
];

function fromOptions(raw: (name: string) => string | undefined, build: () => ServiceRegistry): ServiceRegistry {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof RegistryOptionError)) throw error;
    const match = VARIABLES.find(([pattern]) => pattern.test(error.option));
    if (!match) throw error;
    const [, variable, secret] = match;
    const value = raw(variable);
    // Unset: the value came from the options (host from HOST, a default), not from this variable.
    if (value === undefined) throw error;
    throw new RegistryEnvError(variable, secret ? '(hidden)' : value, error.expected, { cause: error });
  }
}
