import { ConnectionTracker } from '@quiesce/drain';
import type { LifecycleOptions } from 'quiesce';
import { FastifyQuiesceOptionError } from '../errors.ts';
import type { FastifyQuiesceOptions } from '../fastify-quiesce.ts';

/** The options split by who uses them, validated. */
export interface ResolvedOptions {
  readonly tracker: ConnectionTracker;
  readonly tcpKeepAliveMs: number | false;
  readonly handleSignals: boolean;
  readonly readinessPath: string | false;
  readonly livenessPath: string | false;
  readonly lifecycle: Omit<LifecycleOptions, 'adapter'>;
}

const LIFECYCLE_KEYS = ['deadlineMs', 'lameDuckMs', 'cleanupReserveMs', 'log', 'exitCodes', 'signals', 'onUpgraded', 'clock'] as const;
const TRACKER_KEYS = ['idleGraceMs', 'preconnectGraceMs', 'pollMinMs', 'pollMaxMs', 'clock'] as const;
const OWN_KEYS = ['tcpKeepAliveMs', 'handleSignals', 'readinessPath', 'livenessPath'] as const;
const KNOWN = new Set<string>([...LIFECYCLE_KEYS, ...TRACKER_KEYS, ...OWN_KEYS]);
// Options of fastify.register() itself, which Fastify hands to the plugin along with ours.
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

/**
 * Turns an option error of a package underneath (lifecycle, drain, Node adapter) into a
 * {@link FastifyQuiesceOptionError} with the same option and value; other errors pass unchanged.
 */
export function asOptionError(error: unknown): unknown {
  const e = error as { option?: unknown; value?: unknown; code?: unknown };
  if (error instanceof Error && typeof e.option === 'string' && typeof e.code === 'string' && e.code.endsWith('INVALID_OPTION')) {
    const expected = /Expected ([\s\S]+?)\.?$/.exec(error.message)?.[1] ?? 'a valid value';
    return new FastifyQuiesceOptionError(e.option, e.value, expected, { cause: error });
  }
  return error;
}

/** Validates every option and builds the tracker. Throws {@link FastifyQuiesceOptionError}. */
export function resolveOptions(options: FastifyQuiesceOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new FastifyQuiesceOptionError('options', options, 'an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key) && !REGISTER_KEYS.has(key)) {
      const value = (options as Record<string, unknown>)[key];
      throw new FastifyQuiesceOptionError(key, value, `one of the known options: ${[...KNOWN].join(', ')}`);
    }
  }
  const { tcpKeepAliveMs = false, handleSignals = true, readinessPath = '/readyz', livenessPath = '/healthz' } = options;
  if (typeof handleSignals !== 'boolean') throw new FastifyQuiesceOptionError('handleSignals', handleSignals, 'true or false');
  if (tcpKeepAliveMs !== false && (typeof tcpKeepAliveMs !== 'number' || !Number.isFinite(tcpKeepAliveMs) || tcpKeepAliveMs < 0)) {
    throw new FastifyQuiesceOptionError('tcpKeepAliveMs', tcpKeepAliveMs, 'false or a finite number of milliseconds ≥ 0');
  }
  assertPath('readinessPath', readinessPath);
  assertPath('livenessPath', livenessPath);
  if (readinessPath !== false && readinessPath === livenessPath) {
    throw new FastifyQuiesceOptionError('livenessPath', livenessPath, `a path other than readinessPath (${readinessPath}), or false`);
  }
  let tracker: ConnectionTracker;
  try {
    tracker = new ConnectionTracker(pick(options, TRACKER_KEYS));
  } catch (error) {
    throw asOptionError(error);
  }
  return { tracker, tcpKeepAliveMs, handleSignals, readinessPath, livenessPath, lifecycle: pick(options, LIFECYCLE_KEYS) };
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
