import { createServer } from 'node:http';
import { type NodeAdapterOptions, createNodeAdapter } from '@quiesce/node';
import type { LifecycleOptions } from 'quiesce';
import { ExpressOptionError, check } from '../errors.ts';
import type { ExpressLifecycleOptions } from '../express-lifecycle.ts';

/** The options split by who uses them, validated. */
export interface ResolvedOptions {
  /** Every setting of the Node adapter each server gets: the drain's, the hold's and TCP keepalive. */
  readonly node: NodeAdapterOptions;
  readonly handleSignals: boolean;
  readonly lifecycle: Omit<LifecycleOptions, 'adapter'>;
}

const LIFECYCLE_KEYS = ['deadlineMs', 'lameDuckMs', 'cleanupReserveMs', 'log', 'exitCodes', 'signals', 'onUpgraded', 'readiness', 'clock'] as const;
/** The Node adapter's options; `clock` goes to both. */
const NODE_KEYS = ['idleGraceMs', 'preconnectGraceMs', 'holdMaxMs', 'tcpKeepAliveMs', 'clock'] as const;
const KNOWN = new Set<string>([...LIFECYCLE_KEYS, ...NODE_KEYS, 'handleSignals']);

/** Validates every option. Throws {@link ExpressOptionError}. */
export function resolveOptions(options: ExpressLifecycleOptions): ResolvedOptions {
  check.object('options', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      const value = (options as Record<string, unknown>)[key];
      throw new ExpressOptionError(key, value, `one of the known options: ${[...KNOWN].join(', ')}`);
    }
  }
  const { handleSignals = true, tcpKeepAliveMs = false, holdMaxMs } = options;
  check.boolean('handleSignals', handleSignals);
  check.durationOrFalse('tcpKeepAliveMs', tcpKeepAliveMs);
  if (holdMaxMs !== undefined) check.duration('holdMaxMs', holdMaxMs);
  const node = pick(options, NODE_KEYS);
  // Each server gets its Node adapter when it is added, possibly at the first listen(); one built
  // here, on a server that never listens, refuses a bad setting now, at the call, as this runtime's
  // server would (on Bun: tcpKeepAliveMs, which its node:http sockets ignore).
  try {
    createNodeAdapter(createServer(), node).dispose();
  } catch (error) {
    throw check.adopt(error);
  }
  return { node, handleSignals, lifecycle: pick(options, LIFECYCLE_KEYS) };
}

function pick<T extends object, K extends keyof T>(options: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}
