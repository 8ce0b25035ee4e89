import { type Clock, systemClock } from '@quiesce/core';
import { check } from './errors.ts';

/**
 * Waits out the lame duck: `ms` milliseconds during which the server still accepts and answers
 * (with `Connection: close`) while load balancers notice that readiness turned false. Resolves early,
 * without throwing, when `signal` aborts (the deadline). Leaves no timer behind.
 *
 * Kubernetes guidance: readiness `failureThreshold × periodSeconds` (plus a little for the
 * endpoints to propagate), or 0 when a `preStop` sleep already covers it.
 *
 * @example
 * ```ts
 * await lameDuck(5_000, { signal: deadline.signal });
 * ```
 */
export function lameDuck(ms: number, options: { signal?: AbortSignal; clock?: Clock } = {}): Promise<void> {
  check.duration('lameDuckMs', ms);
  const { signal, clock = systemClock } = options;
  if (signal !== undefined) check.signal('signal', signal);
  if (ms === 0 || signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
