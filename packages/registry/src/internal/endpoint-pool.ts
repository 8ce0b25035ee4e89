import type { Clock } from '@quiesce/core';
import { RegistryRequestError, RegistryUnavailableError } from '../errors.ts';
import type { FetchFunction } from '../service-registry.ts';
import { Budget, raceSignal } from './budget.ts';

/** An answer from one endpoint. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  /** The endpoint that answered (base URL with a trailing slash). */
  readonly endpoint: string;
}

/** One request: method, path relative to the endpoint, headers, body. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Relative to the endpoint, without a leading slash: `v3/kv/put`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Statuses that mean "this member cannot serve now, another might" (a proxy, a member without leader). */
const TRY_NEXT = new Set([502, 503, 504]);

class AttemptTimeout extends Error {
  override readonly name: string = 'AttemptTimeout';
}

/**
 * The endpoints of one registry. A request goes to the endpoint that answered last; when it cannot
 * connect, does not answer in its share of the time (the call's remaining time divided by the
 * endpoints not yet tried), or answers 502/503/504, the next endpoint is tried. The call's budget
 * bounds the whole request: when it aborts, the request rejects with its reason at once.
 */
export class EndpointPool {
  readonly registry: string;
  readonly endpoints: readonly string[];
  readonly #fetch: FetchFunction;
  readonly #clock: Clock;
  #current = 0;

  constructor(registry: string, endpoints: readonly string[], fetchFn: FetchFunction, clock: Clock) {
    this.registry = registry;
    this.endpoints = endpoints;
    this.#fetch = fetchFn;
    this.#clock = clock;
  }

  async send(request: HttpRequest, budget: Budget): Promise<HttpAnswer> {
    const count = this.endpoints.length;
    const failures: { endpoint: string; error: unknown }[] = [];
    for (let tried = 0; tried < count; tried++) {
      const index = (this.#current + tried) % count;
      const endpoint = this.endpoints[index]!;
      const left = count - tried;
      // The last endpoint gets all the time left, so that running out of it is the call's own timeout.
      const shareMs = left > 1 ? Math.max(1, budget.remainingMs() / left) : Number.POSITIVE_INFINITY;
      const attempt = new Budget(shareMs, [budget.signal], this.#clock, () => new AttemptTimeout(`no answer within ${Math.round(shareMs)} ms`));
      try {
        const response = await raceSignal(
          this.#fetch(new URL(request.path, endpoint), {
            method: request.method,
            headers: request.headers,
            body: request.body,
            signal: attempt.signal,
          }),
          attempt.signal,
        );
        const body = await raceSignal(response.text(), attempt.signal);
        if (TRY_NEXT.has(response.status) && left > 1) {
          failures.push({ endpoint, error: this.#httpError(request, endpoint, response.status, body) });
          continue;
        }
        this.#current = index;
        return { status: response.status, body, endpoint };
      } catch (error) {
        if (budget.signal.aborted) throw budget.signal.reason;
        failures.push({ endpoint, error });
      } finally {
        attempt.dispose();
      }
    }
    throw new RegistryUnavailableError(this.registry, failures);
  }

  #httpError(request: HttpRequest, endpoint: string, status: number, body: string): RegistryRequestError {
    return new RegistryRequestError({
      registry: this.registry,
      request: `${request.method} /${request.path}`,
      endpoint,
      status,
      detail: body.trim().slice(0, 500),
    });
  }
}
