import { type Clock, systemClock } from '@quiesce/core';
import { RegistryOptionError, check } from '../errors.ts';
import type { FetchFunction, RegistryCallOptions, RegistryOptions, ServiceInstance } from '../service-registry.ts';

/** Throws unless `value` is a whole number of seconds in `[min, max]`. */
export function assertSeconds(option: string, value: unknown, min: number, max: number): asserts value is number {
  check.integer(option, value, { min, max }, `a whole number of seconds from ${min} to ${max}`);
}

/** Throws unless `value` is a non-empty string without whitespace (and without `/` when `noSlash`). */
export function assertName(option: string, value: unknown, noSlash: boolean): asserts value is string {
  if (typeof value !== 'string' || value === '' || /\s/.test(value) || (noSlash && value.includes('/'))) {
    throw new RegistryOptionError(option, value, `a non-empty string without whitespace${noSlash ? ' or "/"' : ''}`);
  }
}

/** The options every registry shares, validated, with defaults. */
export interface CommonConfig {
  readonly instance: ResolvedInstance | undefined;
  readonly timeoutMs: number;
  readonly log: ((line: string) => void) | false;
  readonly clock: Clock;
  readonly fetch: FetchFunction;
}

/** Validates {@link RegistryOptions}. */
export function commonConfig(options: RegistryOptions): CommonConfig {
  const { timeoutMs = 2_000, log = console.log, clock = systemClock } = options;
  check.positiveDuration('timeoutMs', timeoutMs);
  check.log('log', log);
  check.clock('clock', clock);
  if (options.fetch !== undefined) check.function('fetch', options.fetch, 'a fetch function');
  const custom = options.fetch;
  // Looked up at call time, so a fetch installed after the registry was created is used.
  const fetchFn: FetchFunction = custom ?? ((input, init) => globalThis.fetch(input, init));
  return {
    instance: options.instance === undefined ? undefined : resolveInstance('instance', options.instance),
    timeoutMs,
    log,
    clock,
    fetch: fetchFn,
  };
}

/** Validates the options of one call; `fallbackMs` is the registry's `timeoutMs`. */
export function callConfig(options: RegistryCallOptions | undefined, fallbackMs: number): { signal: AbortSignal | undefined; timeoutMs: number } {
  if (options === undefined) return { signal: undefined, timeoutMs: fallbackMs };
  check.object('options', options);
  const { signal, timeoutMs = fallbackMs } = options;
  if (signal !== undefined) check.signal('signal', signal);
  check.positiveDuration('timeoutMs', timeoutMs);
  return { signal, timeoutMs };
}

/** A validated {@link ServiceInstance}. */
export interface ResolvedInstance {
  readonly service: string;
  /** Without brackets, even for IPv6. */
  readonly host: string;
  readonly port: number;
  /** `host:port`, with brackets around an IPv6 host. */
  readonly address: string;
  readonly id: string | undefined;
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '::0']);

/** Validates a {@link ServiceInstance}; errors name `${option}.field`. */
export function resolveInstance(option: string, value: unknown): ResolvedInstance {
  check.object(option, value);
  const instance = value as ServiceInstance;
  assertName(`${option}.service`, instance.service, true);
  const rawHost = instance.host;
  if (typeof rawHost !== 'string' || rawHost === '' || /[\s/@?#]/.test(rawHost)) {
    throw new RegistryOptionError(`${option}.host`, rawHost, 'an IP address or DNS name that clients can reach');
  }
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  if (WILDCARDS.has(host)) {
    throw new RegistryOptionError(
      `${option}.host`,
      rawHost,
      "this instance's own IP address or DNS name: a wildcard address (what the server listens on) cannot be reached by clients",
    );
  }
  check.integer(`${option}.port`, instance.port, { min: 1, max: 65_535 });
  if (instance.id !== undefined) assertName(`${option}.id`, instance.id, true);
  const tags = instance.tags ?? [];
  if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string' || tag === '')) {
    throw new RegistryOptionError(`${option}.tags`, tags, 'an array of non-empty strings');
  }
  const metadata = instance.metadata ?? {};
  check.object(`${option}.metadata`, metadata);
  for (const [key, entry] of Object.entries(metadata)) {
    if (typeof entry !== 'string') throw new RegistryOptionError(`${option}.metadata.${key}`, entry, 'a string');
  }
  return {
    service: instance.service,
    host,
    port: instance.port,
    address: `${host.includes(':') ? `[${host}]` : host}:${instance.port}`,
    id: instance.id,
    tags: [...tags],
    metadata: { ...metadata },
  };
}

/**
 * Validates one endpoint URL (`http://127.0.0.1:2379`) and returns it with a trailing slash, so
 * that request paths resolve beneath any path prefix it has.
 */
export function resolveEndpoint(option: string, value: unknown): string {
  const expected = 'an http:// or https:// URL such as "http://127.0.0.1:2379", without credentials, query or fragment';
  if (typeof value !== 'string') throw new RegistryOptionError(option, value, expected);
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new RegistryOptionError(option, value, expected, { cause: error });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
    throw new RegistryOptionError(option, value, expected);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}
