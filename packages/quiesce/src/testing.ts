/**
 * @module
 * `quiesce/testing`: `ManualClock` (`@quiesce/core/testing`), a clock that moves only when a test
 * says so. Pass it as `clock` to `createLifecycle`, `createShutdownHooks`, a tracker or an adapter and
 * test timing without fake timers. Its own subpath, so it never lands in a production bundle.
 *
 * @example
 * ```ts
 * import { Deadline } from 'quiesce';
 * import { ManualClock } from 'quiesce/testing';
 *
 * const clock = new ManualClock();
 * const deadline = new Deadline({ timeoutMs: 1_000, clock });
 * await clock.advance(1_000);
 * console.log(deadline.expired); // true
 * ```
 */
export { ManualClock } from '@quiesce/core/testing';
