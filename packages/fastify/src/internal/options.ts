import type { NodeAdapterOptions } from '@quiesce/node';
import type { LifecycleOptions } from 'quiesce';
import { FastifyQuiesceOptionError } from '../errors.ts';
import type { FastifyQuiesceOptions } from '../fastify-quiesce.ts';

/** The options split by who uses them, validated. */
export interface ResolvedOptions {
  /** Every setting of the Node adapter: the drain's, the hold's and TCP keepalive (checked by the adapter). */
  readonly node: NodeAdapterOptions;
  readonly handleSignals: boolean;
  readonly readinessPath: string | false;
  readonly livenessPath: string | false;
  readonly lifecycle: Omit<LifecycleOptions, 'adapter'>;
}

const LIFECYCLE_KEYS = ['deadlineMs', 'lameDuckMs', 'cleanupReserveMs', 'log', 'exitCodes', 'signals', 'onUpgraded', 'readiness', 'clock'] as const;
/** The Node adapter's options; `clock` goes to both. */
const NODE_KEYS = ['idleGraceMs', 'preconnectGraceMs', 'pollMinMs', 'pollMaxMs', 'holdMaxMs', 'tcpKeepAliveMs', 'clock'] as const;
const OWN_KEYS = ['handleSignals', 'readinessPath', 'livenessPath'] as const;
const KNOWN = new Set<string>([...LIFECYCLE_KEYS, ...NODE_KEYS, ...OWN_KEYS]);
// Options of fastify.register() itself, which Fastify hands to the plugin along with ours.
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

/**
 * Turns an option error of a package underneath (lifecycle, drain, Node adapter) into a
 * {@link FastifyQuiesceOptionError} with the same option, value and expectation, the original as
 * `cause`; other errors pass unchanged.
 */
export function asOptionError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof FastifyQuiesceOptionError) return error;
  const e = error as Error & { option?: unknown; value?: unknown; expected?: unknown };
  if (typeof e.option !== 'string' || !('value' in e)) return error;
  const expected = typeof e.expected === 'string' ? e.expected : 'a valid value (see the cause)';
  return new FastifyQuiesceOptionError(e.option, e.value, expected, { cause: error });
}

/** Validates the plugin's own options and splits the rest. Throws {@link FastifyQuiesceOptionError}. */
export function resolveOptions(options: FastifyQuiesceOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new FastifyQuiesceOptionError('options', options, 'an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key) && !REGISTER_KEYS.has(key)) {
      const value = (options as Record<string, unknown>)[key];
      throw new FastifyQuiesceOptionError(key, value, `one of the known options: ${[...KNOWN].join(', ')}`);
    }
  }
  const { handleSignals = true, readinessPath = '/readyz', livenessPath = '/healthz' } = options;
  if (typeof handleSignals !== 'boolean') throw new FastifyQuiesceOptionError('handleSignals', handleSignals, 'true or false');
  assertPath('readinessPath', readinessPath);
  assertPath('livenessPath', livenessPath);
  if (readinessPath !== false && readinessPath === livenessPath) {
    throw new FastifyQuiesceOptionError('livenessPath', livenessPath, `a path other than readinessPath (${readinessPath}), or false`);
  }
  return { node: pick(options, NODE_KEYS), handleSignals, readinessPath, livenessPath, lifecycle: pick(options, LIFECYCLE_KEYS) };
}

function assertPath(option: string, value: unknown): asserts value is string | false {
  if (value === false) return;
  if (typeof value !== 'string' || !value.startsWith('/') || /\s/.test(value)) {
    throw new FastifyQuiesceOptionError(option, value, 'a route path starting with "/" (no spaces), or false for no route');
  }
}

function pick<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}
