import { ConnectionTracker } from '@quiesce/drain';
import type { LifecycleOptions } from 'quiesce';
import { ExpressOptionError, check } from '../errors.ts';
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

/** Validates every option and builds the tracker. Throws {@link ExpressOptionError}. */
export function resolveOptions(options: ExpressLifecycleOptions): ResolvedOptions {
  check.object('options', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      const value = (options as Record<string, unknown>)[key];
      throw new ExpressOptionError(key, value, `one of the known options: ${[...KNOWN].join(', ')}`);
    }
  }
  const { tcpKeepAliveMs = false, handleSignals = true } = options;
  check.boolean('handleSignals', handleSignals);
  check.durationOrFalse('tcpKeepAliveMs', tcpKeepAliveMs);
  let tracker: ConnectionTracker;
  try {
    tracker = new ConnectionTracker(pick(options, TRACKER_KEYS));
  } catch (error) {
    throw check.adopt(error);
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
