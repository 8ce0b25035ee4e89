/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The source of time for everything that has a deadline. Inject a {@link ManualClock} in tests so
 * that no fake timers are needed; production code uses {@link systemClock}.
 *
 * @example
 * ```ts
 * import { systemClock } from '@quiesce/hooks';
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

/**
 * The real clock: `performance.now()` and the global timers. Its timers keep the event loop alive
 * while they are pending, and every timer Quiesce starts is cleared when its work ends.
 *
 * @example
 * ```ts
 * const handle = systemClock.setTimeout(() => console.log('tick'), 10);
 * systemClock.clearTimeout(handle);
 * ```
 */
export const systemClock: Clock = {
  now: (): number => performance.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle): void =>
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};
