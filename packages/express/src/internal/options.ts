import { ConnectionTracker } from '@quiesce/drain';
import type { LifecycleOptions } from 'quiesce';
import { ExpressOptionError } from '../errors.ts';
import type { ExpressLifecycleOptions } from '../express-lifecycle.ts';

/** The options split by who uses them, validated. */
export interface ResolvedOptions {
  readonly tracker: ConnectionTracker;
  readonly tcpKeepAliveMs: number | false;
  readonly handleSignals: boolean;
  readonly lifecycle: Omit<LifecycleOptions, 'adapter'>;
}

const LIFECYCLE_KEYS = ['deadlineMs', 'lameDuckMs', 'cleanupReserveMs', 'log', 'exitCodes', 'signals', 'onUpgraded', 'clock'] as const;
const TRACKER_KEYS = ['idleGraceMs', 'preconnectGraceMs', 'pollMinMs', 'pollMaxMs', 'clock'] as const;
const KNOWN = new Set<string>([...LIFECYCLE_KEYS, ...TRACKER_KEYS, 'tcpKeepAliveMs', 'handleSignals']);

/**
 * Turns an option error of a package underneath (lifecycle, drain, Node adapter) into an
 * {@link ExpressOptionError} with the same option and value; other errors pass unchanged.
 */
export function asOptionError(error: unknown): unknown {
  const e = error as { option?: unknown; value?: unknown; code?: unknown };
  if (error instanceof Error && typeof e.option === 'string' && typeof e.code === 'string' && e.code.endsWith('INVALID_OPTION')) {
    const expected = /Expected ([\s\S]+?)\.?$/.exec(error.message)?.[1] ?? 'a valid value';
    return new ExpressOptionError(e.option, e.value, expected, { cause: error });
  }
  return error;
}

/** Validates every option and builds the tracker. Throws {@link ExpressOptionError}. */
export function resolveOptions(options: ExpressLifecycleOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new ExpressOptionError('options', options, 'an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      const value = (options as Record<string, unknown>)[key];
      throw new ExpressOptionError(key, value, `one of the known options: ${[...KNOWN].join(', ')}`);
    }
  }
  const { tcpKeepAliveMs = false, handleSignals = true } = options;
  if (typeof handleSignals !== 'boolean') throw new ExpressOptionError('handleSignals', handleSignals, 'true or false');
  if (tcpKeepAliveMs !== false && (typeof tcpKeepAliveMs !== 'number' || !Number.isFinite(tcpKeepAliveMs) || tcpKeepAliveMs < 0)) {
    throw new ExpressOptionError('tcpKeepAliveMs', tcpKeepAliveMs, 'false or a finite number of milliseconds ≥ 0');
  }
  let tracker: ConnectionTracker;
  try {
    tracker = new ConnectionTracker(pick(options, TRACKER_KEYS));
  } catch (error) {
    throw asOptionError(error);
  }
  return { tracker, tcpKeepAliveMs, handleSignals, lifecycle: pick(options, LIFECYCLE_KEYS) };
}

function pick<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}
