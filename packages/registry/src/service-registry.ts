import type { Clock } from '@quiesce/core';

/** The instance a registry announces: where clients can reach this process. */
export interface ServiceInstance {
  /** The service's name, e.g. `quiesce-example`. No `/`, no whitespace. */
  readonly service: string;
  /** The address clients use: an IP or DNS name, never a wildcard such as `0.0.0.0` or `::`. */
  readonly host: string;
  /** The port the server listens on (1–65535). */
  readonly port: number;
  /**
   * This instance's identity within the service. etcd: the last key segment (default `host:port`);
   * Consul: the service ID (default `service:host:port`). No `/`, no whitespace.
   */
  readonly id?: string;
  /** Tags (Consul `Tags`; included in the etcd value). */
  readonly tags?: readonly string[];
  /** String metadata (Consul `Meta`; included in the etcd value). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Options of one call. Both bounds apply: whichever comes first ends the call. */
export interface RegistryCallOptions {
  /** The shutdown deadline or a hook's signal; when it aborts the call is abandoned (`timeout`). */
  readonly signal?: AbortSignal;
  /** This call's own time limit in ms (finite, > 0); default the registry's `timeoutMs`. */
  readonly timeoutMs?: number;
}

/** A registry call. */
export type RegistryOperation = 'register' | 'deregister' | 'close';

/**
 * How a call ended: `ok`; `error` (the registry refused, was unreachable, or the call did not fit
 * the state); `timeout` (its own `timeoutMs` passed or its `signal` aborted first).
 */
export type RegistryOutcome = 'ok' | 'error' | 'timeout';

/** What one call did, for logs and the shutdown report. Calls resolve to this and never reject. */
export interface RegistryResult {
  /** The registry, e.g. `etcd`, `consul`, or `etcd+consul` for a combined one. */
  readonly registry: string;
  readonly operation: RegistryOperation;
  readonly outcome: RegistryOutcome;
  /** Milliseconds from the call to its result, on the registry's clock. */
  readonly durationMs: number;
  /** The etcd key or Consul service ID concerned, when there is one. */
  readonly entry: string | undefined;
  /** Why it was not `ok`: a `RegistryTimeoutError`, `RegistryUnavailableError`, `RegistryRequestError`, … */
  readonly error: Error | undefined;
}

/**
 * Where a registry is: `idle` (never registered), `registering` (the first registration failed and
 * is retried in the background), `registered` (announced and kept alive), `deregistered`, `closed`.
 */
export type RegistryState = 'idle' | 'registering' | 'registered' | 'deregistered' | 'closed';

/**
 * The registry contract. Call `register` once the server is listening and ready, `deregister` at
 * the start of the lame duck (`lifecycle.onDeregister`), and `close` at the end (it always runs,
 * whatever `deregister` did). While registered, a keep-alive loop renews the registration and
 * re-registers when the registry lost it.
 *
 * Every call is bounded by its own `timeoutMs` and by the `signal` it is given, resolves to a
 * {@link RegistryResult}, logs a failure, and never rejects. Bad arguments throw a
 * `RegistryOptionError` synchronously.
 */
export interface ServiceRegistry {
  /** The registry's name, e.g. `etcd`, `consul`, `etcd+consul`. */
  readonly name: string;
  readonly state: RegistryState;
  /**
   * Announces `instance` (default: the one given to the factory) and starts the keep-alive loop.
   * When the first attempt fails the result says so and the loop keeps trying in the background.
   */
  register(instance?: ServiceInstance, options?: RegistryCallOptions): Promise<RegistryResult>;
  /**
   * Stops the keep-alive loop, then removes the registration. When removal fails the entry still
   * expires by itself (etcd lease TTL; Consul TTL check), because nothing keeps it alive any more.
   */
  deregister(options?: RegistryCallOptions): Promise<RegistryResult>;
  /** Stops every timer and request; no network call. Does not deregister: call that first. Final. */
  close(options?: RegistryCallOptions): Promise<RegistryResult>;
}

/** Options every registry takes. */
export interface RegistryOptions {
  /** The instance `register()` announces when called without one. */
  instance?: ServiceInstance;
  /** Default time limit of each call and of each keep-alive round, in ms (finite, > 0). Default 2000. */
  timeoutMs?: number;
  /** Where failures and state changes are logged, one line each. Default `console.log`; `false` for silence. */
  log?: ((line: string) => void) | false;
  /** Time source. Default `systemClock`. */
  clock?: Clock;
  /** The `fetch` to use (a TLS-configured one, a proxying one). Default `globalThis.fetch` at call time. */
  fetch?: FetchFunction;
}

/**
 * What the registry needs of `fetch`: the global one fits, and so does any wrapper, without the
 * extra members some runtimes' typings add to `typeof fetch`.
 */
export type FetchFunction = (input: URL, init: RequestInit) => Promise<Response>;
