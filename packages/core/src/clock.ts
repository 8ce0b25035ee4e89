/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The source of time for everything that has a deadline. Inject a `ManualClock`
 * (`@quiesce/core/testing`) in tests so that no fake timers are needed; production code uses
 * {@link systemClock}.
 *
 * @example
 * ```ts
 * import { systemClock } from '@quiesce/core';
 * const started = systemClock.now();
 * ```
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The longest delay the runtimes' timers take; longer ones fire after 1 ms in Node, Bun and Deno. */
const MAX_TIMER_DELAY = 2_147_483_647;

/** A timer longer than {@link MAX_TIMER_DELAY}, re-armed in steps until its delay has passed. */
class LongTimer {
  #current: ReturnType<typeof globalThis.setTimeout> | undefined;

  constructor(fn: () => void, ms: number) {
    this.#arm(fn, ms);
  }

  #arm(fn: () => void, remaining: number): void {
    this.#current =
      remaining > MAX_TIMER_DELAY
        ? globalThis.setTimeout(() => this.#arm(fn, remaining - MAX_TIMER_DELAY), MAX_TIMER_DELAY)
        : globalThis.setTimeout(fn, remaining);
  }

  clear(): void {
    globalThis.clearTimeout(this.#current);
  }
}

/**
 * The real clock: `performance.now()` and the global timers. Its timers keep the event loop alive
 * while they are pending, and every timer Quiesce starts is cleared when its work ends. Delays
 * longer than the runtime's 32-bit timer limit (about 24.8 days) are honoured, not cut to 1 ms.
 *
 * @example
 * ```ts
 * const handle = systemClock.setTimeout(() => console.log('tick'), 10);
 * systemClock.clearTimeout(handle);
 * ```
 */
export const systemClock: Clock = {
  now: (): number => performance.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle =>
    ms > MAX_TIMER_DELAY ? new LongTimer(fn, ms) : globalThis.setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle): void => {
    if (handle instanceof LongTimer) handle.clear();
    else globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]);
  },
};
