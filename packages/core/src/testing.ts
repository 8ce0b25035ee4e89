/**
 * @module
 * `@quiesce/core/testing`: {@link ManualClock}, a `Clock` that moves only when a test says so.
 * Pass it as the `clock` option of any Quiesce package to test timing without fake timers. A
 * separate entry point, so test tooling never ends up in a production bundle.
 *
 * @example
 * ```ts
 * import { Deadline } from '@quiesce/core';
 * import { ManualClock } from '@quiesce/core/testing';
 *
 * const clock = new ManualClock();
 * const deadline = new Deadline({ timeoutMs: 1_000, clock });
 * await clock.advance(1_000);
 * console.log(deadline.expired); // true
 * ```
 */
export { ManualClock } from './manual-clock.ts';
