import { RegistryOptionError, RegistryRequestError, check } from './errors.ts';
import { encodeBase64 } from './internal/base64.ts';
import type { Budget } from './internal/budget.ts';
import { EndpointPool, type HttpAnswer } from './internal/endpoint-pool.ts';
import {
  type ResolvedInstance,
  assertSeconds,
  commonConfig,
  resolveEndpoint,
} from './internal/options.ts';
import { type RegistryDriver, createRegistry } from './internal/registration.ts';
import type { RegistryOptions, ServiceRegistry } from './service-registry.ts';

/** Options for {@link createEtcdRegistry}. */
export interface EtcdRegistryOptions extends RegistryOptions {
  /**
   * etcd client URLs (`http://10.0.0.5:2379`), one or several members of a cluster. A request goes
   * to the member that answered last and moves to the next one when it cannot connect or answer.
   */
  endpoints: string | readonly string[];
  /** Lease TTL in whole seconds (1 – 9 000 000 000; etcd raises it to its minimum, usually 2). Default 10. */
  ttlSeconds?: number;
  /** Time between lease keep-alives, in ms; less than the TTL. Default a third of the TTL. */
  keepAliveIntervalMs?: number;
  /** The key is `${keyPrefix}/${service}/${id}`. Default `/services`. */
  keyPrefix?: string;
  /** Credentials for etcd's authentication (`/v3/auth/authenticate`); the token is renewed when etcd rejects it. */
  auth?: { readonly username: string; readonly password: string };
}

const MAX_TTL_SECONDS = 9_000_000_000;
/** A JSON gateway answer: its fields (int64 fields are decimal strings; lease IDs exceed 2^53) and the raw answer. */
interface Answer {
  readonly fields: Record<string, unknown>;
  readonly raw: HttpAnswer;
}

/** gRPC status codes the JSON gateway reports. */
const NOT_FOUND = 5;
const UNAUTHENTICATED = 16;

/**
 * Registers a service instance in etcd v3 through its JSON gateway over `fetch` (etcd ≥ 3.4, the
 * `/v3/` paths; no gRPC). `register` grants a lease and puts the key
 * `${keyPrefix}/${service}/${host:port}` with a JSON value (`{ service, id, address, host, port }`)
 * on it; keep-alives renew the lease every `keepAliveIntervalMs`, and when etcd has lost the lease
 * (expired, revoked, a restored cluster) a new one is granted and the key put again. `deregister`
 * revokes the lease, which deletes the key atomically; if that fails the key still expires with
 * the lease, since nothing renews it any more. A crashed process's key expires the same way.
 * Every call is bounded (see {@link ServiceRegistry}). Throws {@link RegistryOptionError} on a bad option.
 *
 * @example
 * ```ts
 * import { createEtcdRegistry } from '@quiesce/registry';
 *
 * const registry = createEtcdRegistry({ endpoints: ['http://127.0.0.1:2379'], ttlSeconds: 10 });
 * await registry.register({ service: 'api', host: '10.0.0.7', port: 3000 });
 * // … at the start of the lame duck:
 * const result = await registry.deregister({ timeoutMs: 2_000 });
 * console.log(result.outcome, result.durationMs);
 * await registry.close();
 * ```
 */
export function createEtcdRegistry(options: EtcdRegistryOptions): ServiceRegistry {
  check.object('options', options);
  const common = commonConfig(options);
  const rawEndpoints = typeof options.endpoints === 'string' ? [options.endpoints] : options.endpoints;
  if (!Array.isArray(rawEndpoints) || rawEndpoints.length === 0) {
    throw new RegistryOptionError('endpoints', options.endpoints, 'a URL or a non-empty array of URLs such as "http://127.0.0.1:2379"');
  }
  const endpoints = rawEndpoints.map((endpoint, i) => resolveEndpoint(`endpoints[${i}]`, endpoint));
  const ttlSeconds = options.ttlSeconds ?? 10;
  assertSeconds('ttlSeconds', ttlSeconds, 1, MAX_TTL_SECONDS);
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? Math.round((ttlSeconds * 1000) / 3);
  check.positiveDuration('keepAliveIntervalMs', keepAliveIntervalMs);
  if (keepAliveIntervalMs >= ttlSeconds * 1000) {
    throw new RegistryOptionError('keepAliveIntervalMs', keepAliveIntervalMs, `less than the lease TTL (${ttlSeconds * 1000} ms)`);
  }
  if (options.keyPrefix !== undefined && (typeof options.keyPrefix !== 'string' || /\s/.test(options.keyPrefix))) {
    throw new RegistryOptionError('keyPrefix', options.keyPrefix, 'a string without whitespace such as "/services"');
  }
  const keyPrefix = (options.keyPrefix ?? '/services').replace(/\/+$/, '');
  let auth: { username: string; password: string } | undefined;
  if (options.auth !== undefined) {
    check.object('auth', options.auth);
    const { username, password } = options.auth;
    check.string('auth.username', username);
    // The password is not echoed in the message.
    if (typeof password !== 'string') throw new RegistryOptionError('auth.password', typeof password, 'a string');
    auth = { username, password };
  }
  const pool = new EndpointPool('etcd', endpoints, common.fetch, common.clock);
  const driver = new EtcdDriver(pool, { ttlSeconds, keepAliveIntervalMs, keyPrefix, auth });
  return createRegistry(driver, common);
}

/** The key of an instance: `${keyPrefix}/${service}/${id ?? host:port}`. */
function entryKey(keyPrefix: string, instance: ResolvedInstance): string {
  return `${keyPrefix}/${instance.service}/${instance.id ?? instance.address}`;
}

/** The JSON value stored under the key. */
function entryValue(instance: ResolvedInstance): string {
  return JSON.stringify({
    service: instance.service,
    id: instance.id ?? instance.address,
    address: instance.address,
    host: instance.host,
    port: instance.port,
    ...(instance.tags.length > 0 ? { tags: instance.tags } : {}),
    ...(Object.keys(instance.metadata).length > 0 ? { metadata: instance.metadata } : {}),
  });
}

class EtcdDriver implements RegistryDriver {
  readonly name = 'etcd';
  readonly keepAliveIntervalMs: number;
  readonly expiry: string;
  readonly #pool: EndpointPool;
  readonly #ttlSeconds: number;
  readonly #keyPrefix: string;
  readonly #auth: { username: string; password: string } | undefined;
  #token: string | undefined;
  /** Leases that may hold our key, oldest first; after a successful put only that put's lease. */
  #leases: string[] = [];

  constructor(
    pool: EndpointPool,
    config: { ttlSeconds: number; keepAliveIntervalMs: number; keyPrefix: string; auth: { username: string; password: string } | undefined },
  ) {
    this.#pool = pool;
    this.#ttlSeconds = config.ttlSeconds;
    this.keepAliveIntervalMs = config.keepAliveIntervalMs;
    this.#keyPrefix = config.keyPrefix;
    this.#auth = config.auth;
    this.expiry = `the key expires with its lease within ${config.ttlSeconds} s`;
  }

  entry(instance: ResolvedInstance): string {
    return entryKey(this.#keyPrefix, instance);
  }

  async announce(instance: ResolvedInstance, budget: Budget): Promise<string> {
    const granted = await this.#call('v3/lease/grant', { TTL: String(this.#ttlSeconds) }, budget);
    const lease = granted.fields['ID'];
    if (typeof lease !== 'string' || !/^\d+$/.test(lease)) throw malformed(granted.raw, 'v3/lease/grant', 'an answer without a lease ID');
    this.#leases.push(lease);
    const key = encodeBase64(this.entry(instance));
    await this.#call('v3/kv/put', { key, value: encodeBase64(entryValue(instance)), lease }, budget);
    // The key now lives on this lease; earlier leases hold nothing of ours and expire unrenewed.
    this.#leases = [lease];
    return `lease ${lease}, TTL ${String(granted.fields['TTL'] ?? this.#ttlSeconds)} s`;
  }

  async renew(_instance: ResolvedInstance, budget: Budget): Promise<'alive' | 'lost'> {
    const lease = this.#leases.at(-1);
    if (lease === undefined) return 'lost';
    const answer = await this.#call('v3/lease/keepalive', { ID: lease }, budget);
    // An unknown lease answers without TTL (zero is omitted from the JSON) or with TTL ≤ 0.
    return Number(answer.fields['TTL'] ?? 0) > 0 ? 'alive' : 'lost';
  }

  async withdraw(_instance: ResolvedInstance, budget: Budget): Promise<void> {
    // Revoking a lease deletes every key attached to it, atomically.
    const outcomes = await Promise.allSettled(
      this.#leases.map(async (lease) => {
        try {
          await this.#call('v3/lease/revoke', { ID: lease }, budget);
        } catch (error) {
          // Already expired or revoked: its keys are gone, which is what we want.
          if (!(error instanceof RegistryRequestError && error.grpcCode === NOT_FOUND)) throw error;
        }
        return lease;
      }),
    );
    const revoked = new Set(outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])));
    this.#leases = this.#leases.filter((lease) => !revoked.has(lease));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** POSTs to the JSON gateway, authenticating first when configured and once more if the token was rejected. */
  async #call(path: string, body: Record<string, unknown>, budget: Budget, retried = false): Promise<Answer> {
    if (this.#auth && this.#token === undefined) await this.#authenticate(this.#auth, budget);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#token !== undefined) headers['authorization'] = this.#token;
    const answer = await this.#pool.send({ method: 'POST', path, headers, body: JSON.stringify(body) }, budget);
    try {
      return parseAnswer(answer, path);
    } catch (error) {
      // Simple tokens expire (--auth-token-ttl) and vanish when etcd restarts: authenticate again, once.
      if (this.#auth && !retried && error instanceof RegistryRequestError && error.grpcCode === UNAUTHENTICATED) {
        this.#token = undefined;
        return this.#call(path, body, budget, true);
      }
      throw error;
    }
  }

  async #authenticate(auth: { username: string; password: string }, budget: Budget): Promise<void> {
    const path = 'v3/auth/authenticate';
    const body = JSON.stringify({ name: auth.username, password: auth.password });
    const answer = await this.#pool.send({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body }, budget);
    const parsed = parseAnswer(answer, path);
    const token = parsed.fields['token'];
    if (typeof token !== 'string' || token === '') throw malformed(answer, path, 'an answer without a token');
    this.#token = token;
  }
}

/**
 * Reads a JSON gateway answer: a unary one (`{ header, … }` or `{ error, message, code }`) or the
 * first message of a stream (`{ result: … }` or `{ error: { grpc_code, message, … } }`).
 */
function parseAnswer(answer: HttpAnswer, path: string): Answer {
  const firstLine = answer.body.trim().split('\n', 1)[0] ?? '';
  let json: unknown;
  try {
    json = JSON.parse(firstLine);
  } catch {
    json = undefined;
  }
  const object = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  const error = object?.['error'];
  if (error !== undefined || answer.status >= 400 || object === undefined) {
    let grpcCode: number | undefined;
    let detail = answer.body.trim().slice(0, 500);
    if (typeof error === 'string') {
      detail = typeof object?.['message'] === 'string' ? (object['message'] as string) : error;
      grpcCode = typeof object?.['code'] === 'number' ? (object['code'] as number) : undefined;
    } else if (error !== null && typeof error === 'object') {
      const e = error as Record<string, unknown>;
      detail = typeof e['message'] === 'string' ? e['message'] : detail;
      grpcCode = typeof e['grpc_code'] === 'number' ? e['grpc_code'] : undefined;
    } else if (object === undefined && answer.status < 400) {
      throw malformed(answer, path, 'an answer that is not a JSON object');
    }
    throw new RegistryRequestError({ registry: 'etcd', request: `POST /${path}`, endpoint: answer.endpoint, status: answer.status, grpcCode, detail });
  }
  const result = object['result'];
  const fields = result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : object;
  return { fields, raw: answer };
}

function malformed(raw: HttpAnswer, path: string, what: string): RegistryRequestError {
  return new RegistryRequestError({
    registry: 'etcd',
    request: `POST /${path}`,
    endpoint: raw.endpoint,
    status: raw.status,
    detail: `${what}: ${raw.body.trim().slice(0, 200)}`,
  });
}
