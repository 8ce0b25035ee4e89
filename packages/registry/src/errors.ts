import { InvalidOptionError, type OptionChecks, optionChecks, redactSecrets } from '@quiesce/core';
import { describeReason } from './internal/describe.ts';

/**
 * A public option or argument was given a value it cannot take. Thrown synchronously by the
 * factories and by `register` / `deregister` / `close` on bad arguments; the message names the
 * option and the value, with secrets (URL credentials, tokens, passwords) redacted. Extends
 * `InvalidOptionError` from `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { createEtcdRegistry({ endpoints: ['127.0.0.1:2379'] }); }
 * catch (e) { if (e instanceof RegistryOptionError) console.error(e.option); } // "endpoints[0]"
 * ```
 */
export class RegistryOptionError extends InvalidOptionError {
  override readonly name: string = 'RegistryOptionError';
  override readonly code: 'QUIESCE_REGISTRY_INVALID_OPTION' = 'QUIESCE_REGISTRY_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link RegistryOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(RegistryOptionError);

/**
 * An environment variable read by {@link registryFromEnv} has a value it cannot use; the message
 * names the variable and the value (passwords and tokens are not echoed; URL credentials and secret
 * query parameters in a value are redacted).
 *
 * @example
 * ```ts
 * try { registryFromEnv({ ETCD_ENDPOINTS: 'localhost:2379' }, { service: 'api' }); }
 * catch (e) { if (e instanceof RegistryEnvError) console.error(e.variable); } // "ETCD_ENDPOINTS"
 * ```
 */
export class RegistryEnvError extends Error {
  override readonly name: string = 'RegistryEnvError';
  readonly code: 'QUIESCE_REGISTRY_INVALID_ENV' = 'QUIESCE_REGISTRY_INVALID_ENV';
  /** The variable's name, e.g. `ETCD_ENDPOINTS`. */
  readonly variable: string;

  constructor(variable: string, value: string | undefined, expected: string, options?: { cause?: unknown }) {
    super(`${variable}=${value === undefined ? '(unset)' : JSON.stringify(redactSecrets(value))} is invalid: expected ${expected}.`, options);
    this.variable = variable;
  }
}

/**
 * A registry call (`register`, `deregister`, `close`) was cut short: its own `timeoutMs` passed,
 * or the `signal` it was given aborted (the shutdown deadline, a hook timeout); that reason is the
 * `cause`. The work was abandoned; nothing is left running.
 *
 * @example
 * ```ts
 * const result = await registry.deregister({ timeoutMs: 1_000 });
 * if (result.error instanceof RegistryTimeoutError) console.warn(result.error.timeoutMs);
 * ```
 */
export class RegistryTimeoutError extends Error {
  override readonly name: string = 'RegistryTimeoutError';
  readonly code: 'QUIESCE_REGISTRY_TIMEOUT' = 'QUIESCE_REGISTRY_TIMEOUT';
  /** The registry, e.g. `etcd`. */
  readonly registry: string;
  /** The call that was cut short. */
  readonly operation: string;
  /** The call's own time limit. */
  readonly timeoutMs: number;
  /** True when the call's own `timeoutMs` passed; false when its `signal` aborted first. */
  readonly ownTimeout: boolean;

  constructor(registry: string, operation: string, timeoutMs: number, ownTimeout: boolean, options?: { cause?: unknown }) {
    super(
      ownTimeout
        ? `${registry} ${operation} did not finish within its timeout of ${timeoutMs} ms and was abandoned; check that the registry is reachable, or raise timeoutMs.`
        : `${registry} ${operation} was cut short by its AbortSignal (${describeReason(options?.cause)}) and abandoned; allow it more of the shutdown deadline.`,
      options,
    );
    this.registry = registry;
    this.operation = operation;
    this.timeoutMs = timeoutMs;
    this.ownTimeout = ownTimeout;
  }
}

/**
 * No endpoint of the registry could be reached: every one refused the connection, failed, or did
 * not answer in its share of the call's time. `cause` is an `AggregateError` with one error per
 * endpoint tried.
 *
 * @example
 * ```ts
 * if (result.error instanceof RegistryUnavailableError) console.warn(result.error.endpoints);
 * ```
 */
export class RegistryUnavailableError extends Error {
  override readonly name: string = 'RegistryUnavailableError';
  readonly code: 'QUIESCE_REGISTRY_UNAVAILABLE' = 'QUIESCE_REGISTRY_UNAVAILABLE';
  readonly registry: string;
  /** The endpoints that were tried, in order. */
  readonly endpoints: readonly string[];

  constructor(registry: string, failures: readonly { endpoint: string; error: unknown }[], options?: { cause?: unknown }) {
    const detail = failures.map((f) => `${f.endpoint}: ${describeReason(f.error)}`).join('; ');
    super(
      `No ${registry} endpoint could be reached (${detail}). Check that ${registry} is running and that the endpoints are right.`,
      { cause: options?.cause ?? new AggregateError(failures.map((f) => f.error), `every ${registry} endpoint failed`) },
    );
    this.registry = registry;
    this.endpoints = failures.map((f) => f.endpoint);
  }
}

/**
 * The registry answered a request with an error (an HTTP status ≥ 400, or an error body). For etcd,
 * `grpcCode` is the gRPC status code from the JSON gateway (5 not found, 7 permission denied,
 * 16 unauthenticated, …).
 *
 * @example
 * ```ts
 * if (result.error instanceof RegistryRequestError && result.error.status === 403) console.warn('check the token');
 * ```
 */
export class RegistryRequestError extends Error {
  override readonly name: string = 'RegistryRequestError';
  readonly code: 'QUIESCE_REGISTRY_REQUEST_FAILED' = 'QUIESCE_REGISTRY_REQUEST_FAILED';
  readonly registry: string;
  /** `METHOD /path` of the request. */
  readonly request: string;
  /** The endpoint that answered. */
  readonly endpoint: string;
  /** The HTTP status. */
  readonly status: number;
  /** The gRPC status code, when the registry sent one (etcd). */
  readonly grpcCode: number | undefined;
  /** The registry's own error message (secrets in it redacted). */
  readonly detail: string;

  constructor(
    init: { registry: string; request: string; endpoint: string; status: number; grpcCode?: number; detail: string },
    options?: { cause?: unknown },
  ) {
    const code = init.grpcCode === undefined ? '' : `, gRPC code ${init.grpcCode}`;
    const detail = redactSecrets(init.detail);
    super(
      `${init.registry} answered ${init.request} on ${init.endpoint} with HTTP ${init.status}${code}: ${detail || '(no message)'}`,
      options,
    );
    this.registry = init.registry;
    this.request = init.request;
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.grpcCode = init.grpcCode;
    this.detail = detail;
  }
}

/**
 * A call does not fit the registry's state: `register` while already registered, or any call after
 * `close`. Reported in the call's result, not thrown.
 *
 * @example
 * ```ts
 * await registry.close();
 * const result = await registry.register(instance); // result.error is a RegistryStateError
 * ```
 */
export class RegistryStateError extends Error {
  override readonly name: string = 'RegistryStateError';
  readonly code: 'QUIESCE_REGISTRY_STATE' = 'QUIESCE_REGISTRY_STATE';
  /** The state the registry was in. */
  readonly state: string;

  constructor(message: string, state: string, options?: { cause?: unknown }) {
    super(message, options);
    this.state = state;
  }
}
