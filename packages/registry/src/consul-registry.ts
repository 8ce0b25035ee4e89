import { RegistryOptionError, RegistryRequestError, check } from './errors.ts';
import type { Budget } from './internal/budget.ts';
import { EndpointPool, type HttpAnswer, type HttpRequest } from './internal/endpoint-pool.ts';
import {
  type ResolvedInstance,
  assertSeconds,
  commonConfig,
  resolveEndpoint,
} from './internal/options.ts';
import { type RegistryDriver, createRegistry } from './internal/registration.ts';
import type { RegistryOptions, ServiceRegistry } from './service-registry.ts';

/** Options for {@link createConsulRegistry}. */
export interface ConsulRegistryOptions extends RegistryOptions {
  /** The local Consul agent's HTTP API, e.g. `http://127.0.0.1:8500`. */
  address: string;
  /** An ACL token, sent as `X-Consul-Token`. */
  token?: string;
  /** TTL of the service's health check, in whole seconds (1 – 86 400). Default 10. */
  ttlSeconds?: number;
  /** Time between check passes, in ms; less than the TTL. Default a third of the TTL. */
  keepAliveIntervalMs?: number;
  /**
   * Consul removes a service whose check stays critical this long, in whole seconds (Consul's
   * minimum is 60; its reaper runs every 30 s), so a crashed instance is cleaned up. `false` never.
   * Default 60.
   */
  deregisterCriticalAfterSeconds?: number | false;
}

/**
 * Registers a service instance with the local Consul agent (HTTP API, over `fetch`). `register`
 * sends `PUT /v1/agent/service/register` with a TTL check that starts `critical`, then passes it
 * (`PUT /v1/agent/check/pass/service:<id>`): call it once the server is ready. Keep-alives pass the
 * check every `keepAliveIntervalMs`; when the agent no longer knows the check (it restarted) the
 * service is registered again. `deregister` fails the check first, so health-filtered queries drop
 * the instance even if the next request is lost, then sends `PUT /v1/agent/service/deregister/:id`.
 * Every call is bounded (see {@link ServiceRegistry}). Throws {@link RegistryOptionError} on a bad option.
 *
 * Tested against a recording stand-in for the agent that enforces these request shapes, not
 * against a live Consul.
 *
 * @example
 * ```ts
 * import { createConsulRegistry } from '@quiesce/registry';
 *
 * const registry = createConsulRegistry({ address: 'http://127.0.0.1:8500', token: process.env.CONSUL_HTTP_TOKEN });
 * await registry.register({ service: 'api', host: '10.0.0.7', port: 3000 });
 * const result = await registry.deregister({ timeoutMs: 2_000 });
 * await registry.close();
 * ```
 */
export function createConsulRegistry(options: ConsulRegistryOptions): ServiceRegistry {
  check.object('options', options);
  const common = commonConfig(options);
  const address = resolveEndpoint('address', options.address);
  if (options.token !== undefined && (typeof options.token !== 'string' || !/^[\x21-\x7e]+$/.test(options.token))) {
    // The token itself is not echoed.
    throw new RegistryOptionError('token', typeof options.token, 'a non-empty string of visible ASCII characters');
  }
  const ttlSeconds = options.ttlSeconds ?? 10;
  assertSeconds('ttlSeconds', ttlSeconds, 1, 86_400);
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? Math.round((ttlSeconds * 1000) / 3);
  check.positiveDuration('keepAliveIntervalMs', keepAliveIntervalMs);
  if (keepAliveIntervalMs >= ttlSeconds * 1000) {
    throw new RegistryOptionError('keepAliveIntervalMs', keepAliveIntervalMs, `less than the check TTL (${ttlSeconds * 1000} ms)`);
  }
  const deregisterAfter = options.deregisterCriticalAfterSeconds ?? 60;
  if (deregisterAfter !== false) assertSeconds('deregisterCriticalAfterSeconds', deregisterAfter, 60, 31_536_000);
  const pool = new EndpointPool('consul', [address], common.fetch, common.clock);
  return createRegistry(new ConsulDriver(pool, { token: options.token, ttlSeconds, keepAliveIntervalMs, deregisterAfter }), common);
}

class ConsulDriver implements RegistryDriver {
  readonly name = 'consul';
  readonly keepAliveIntervalMs: number;
  readonly expiry: string;
  readonly #pool: EndpointPool;
  readonly #token: string | undefined;
  readonly #ttlSeconds: number;
  readonly #deregisterAfter: number | false;

  constructor(
    pool: EndpointPool,
    config: { token: string | undefined; ttlSeconds: number; keepAliveIntervalMs: number; deregisterAfter: number | false },
  ) {
    this.#pool = pool;
    this.#token = config.token;
    this.#ttlSeconds = config.ttlSeconds;
    this.keepAliveIntervalMs = config.keepAliveIntervalMs;
    this.#deregisterAfter = config.deregisterAfter;
    this.expiry =
      `its check turns critical within ${config.ttlSeconds} s` +
      (config.deregisterAfter === false ? '' : ` and Consul removes it ${config.deregisterAfter} s later`);
  }

  /** The Consul service ID: the instance's `id`, or `service:host:port`. */
  entry(instance: ResolvedInstance): string {
    return instance.id ?? `${instance.service}:${instance.address}`;
  }

  async announce(instance: ResolvedInstance, budget: Budget): Promise<string> {
    const id = this.entry(instance);
    const checkId = `service:${id}`;
    const registration = {
      ID: id,
      Name: instance.service,
      Address: instance.host,
      Port: instance.port,
      ...(instance.tags.length > 0 ? { Tags: instance.tags } : {}),
      ...(Object.keys(instance.metadata).length > 0 ? { Meta: instance.metadata } : {}),
      Check: {
        CheckID: checkId,
        Name: `${instance.service} lifecycle (quiesce)`,
        Notes: 'TTL check passed by the process while it serves; failed at the start of its shutdown.',
        TTL: `${this.#ttlSeconds}s`,
        // Not routable until the first pass below, which register() sends once the server is ready.
        Status: 'critical',
        ...(this.#deregisterAfter === false ? {} : { DeregisterCriticalServiceAfter: `${this.#deregisterAfter}s` }),
      },
    };
    this.#expectOk(await this.#send('v1/agent/service/register', budget, JSON.stringify(registration)), 'v1/agent/service/register');
    const pass = `v1/agent/check/pass/${encodeURIComponent(checkId)}`;
    this.#expectOk(await this.#send(`${pass}?note=${encodeURIComponent('ready')}`, budget), pass);
    return `check ${checkId}, TTL ${this.#ttlSeconds}s`;
  }

  async renew(instance: ResolvedInstance, budget: Budget): Promise<'alive' | 'lost'> {
    const path = `v1/agent/check/pass/${encodeURIComponent(`service:${this.entry(instance)}`)}`;
    const answer = await this.#send(path, budget);
    if (isUnknown(answer)) return 'lost';
    this.#expectOk(answer, path);
    return 'alive';
  }

  async withdraw(instance: ResolvedInstance, budget: Budget): Promise<void> {
    const id = this.entry(instance);
    const fail = `v1/agent/check/fail/${encodeURIComponent(`service:${id}`)}`;
    let failError: unknown;
    try {
      const answer = await this.#send(`${fail}?note=${encodeURIComponent('shutting down')}`, budget);
      if (!isUnknown(answer)) this.#expectOk(answer, fail);
    } catch (error) {
      // Deregistering still removes the service; the failed check is the fallback if that is lost.
      if (budget.signal.aborted) throw error;
      failError = error;
    }
    const deregister = `v1/agent/service/deregister/${encodeURIComponent(id)}`;
    const answer = await this.#send(deregister, budget);
    // Unknown service: already gone (an agent restart, or Consul reaped it), which is what we want.
    if (isUnknown(answer)) return;
    try {
      this.#expectOk(answer, deregister);
    } catch (error) {
      throw failError === undefined ? error : new AggregateError([failError, error], `consul fail-check and deregister both failed`);
    }
  }

  #send(path: string, budget: Budget, body?: string): Promise<HttpAnswer> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#token !== undefined) headers['x-consul-token'] = this.#token;
    const request: HttpRequest = { method: 'PUT', path, headers, ...(body === undefined ? {} : { body }) };
    return this.#pool.send(request, budget);
  }

  #expectOk(answer: HttpAnswer, path: string): void {
    if (answer.status >= 200 && answer.status < 300) return;
    throw new RegistryRequestError({
      registry: 'consul',
      request: `PUT /${path.split('?')[0]}`,
      endpoint: answer.endpoint,
      status: answer.status,
      detail: answer.body.trim().slice(0, 500),
    });
  }
}

/** The agent does not know the check or service: 404, or the 500 older agents answer for an unknown TTL check. */
function isUnknown(answer: HttpAnswer): boolean {
  if (answer.status === 404) return true;
  return answer.status === 500 && /unknown (check|service)|does not have associated TTL|not found/i.test(answer.body);
}
