import type { NodeAdapterOptions } from '@quiesce/node';
import type { LifecycleOptions } from 'quiesce';
import { FastifyQuiesceOptionError, check } from '../errors.ts';
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
const NODE_KEYS = ['idleGraceMs', 'preconnectGraceMs', 'holdMaxMs', 'tcpKeepAliveMs', 'clock'] as const;
const OWN_KEYS = ['handleSignals', 'readinessPath', 'livenessPath'] as const;
const KNOWN = new Set<string>([...LIFECYCLE_KEYS, ...NODE_KEYS, ...OWN_KEYS]);
// Options of fastify.register() itself, which Fastify hands to the plugin along with ours.
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

/** Validates the plugin's own options and splits the rest. Throws {@link FastifyQuiesceOptionError}. */
export function resolveOptions(options: FastifyQuiesceOptions): ResolvedOptions {
  check.object('options', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key) && !REGISTER_KEYS.has(key)) {
      const value = (options as Record<string, unknown>)[key];
      throw new FastifyQuiesceOptionError(key, value, `one of the known options: ${[...KNOWN].join(', ')}`);
    }
  }
  const { handleSignals = true, readinessPath = '/readyz', livenessPath = '/healthz' } = options;
  check.boolean('handleSignals', handleSignals);
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
