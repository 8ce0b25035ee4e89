import { ClientStalledError, HarnessOptionError } from './errors.ts';
import type { LoadResult } from './load-result.ts';

/**
 * A time the load client's own event loop was held up during a load run: it ended `atMs` after the
 * run started and lasted `ms`. While it lasts the client neither reads nor writes.
 */
export interface ClientStall {
  readonly atMs: number;
  readonly ms: number;
}

/** The shortest time after which the Quiesce adapters close a connection as idle (their preconnect grace). */
const DEFAULT_LIMIT_MS = 100;

/**
 * Throws {@link ClientStalledError} when `result` lost requests (`ambiguous` or `error`) and the
 * client's event loop was held up for `limitMs` or more during the run; otherwise returns. A clean
 * run is evidence however long the client stalled, and a lossy run by a client that kept up is a
 * server fault: call this before asserting on a run, so that only a run that cannot tell the two
 * apart is set aside. Throws {@link HarnessOptionError} for a `limitMs` that is not a positive number.
 *
 * @example
 * ```ts
 * const result = await runKeepAliveLoad({ port: server.port, until: server.exited });
 * assertClientKeptUp(result);
 * expect(result.totals.ambiguous).toBe(0);
 * ```
 */
export function assertClientKeptUp(result: LoadResult, limitMs: number = DEFAULT_LIMIT_MS): void {
  if (typeof limitMs !== 'number' || !Number.isFinite(limitMs) || limitMs <= 0) {
    throw new HarnessOptionError('limitMs', limitMs, 'a positive number of milliseconds');
  }
  const lost = result.totals.ambiguous + result.totals.error;
  if (lost > 0 && result.longestClientStallMs >= limitMs) {
    throw new ClientStalledError(result.longestClientStallMs, limitMs, lost);
  }
}
