import { type Clock, type TimerHandle, systemClock } from './clock.ts';
import { DeadlineExceededError, type InvalidOptionError } from './errors.ts';
import { check } from './internal/check.ts';

/** Options for {@link Deadline}. */
export interface DeadlineOptions {
  /** Milliseconds from now until the deadline; omit for no time limit. Finite and ≥ 0. */
  timeoutMs?: number;
  /** An outer signal; the deadline aborts when it does (with the same reason). */
  signal?: AbortSignal;
  /** Time source; defaults to {@link systemClock}. */
  clock?: Clock;
}

/**
 * One point in time after which unfinished shutdown work is abandoned (Go's `context.WithDeadline`
 * as an `AbortSignal`). Its {@link Deadline.signal} aborts with a {@link DeadlineExceededError}
 * when the time is up, or with the outer signal's reason. Call {@link Deadline.dispose} when the
 * work ends so that no timer is left behind. Throws {@link InvalidOptionError} on a bad option.
 *
 * @example
 * ```ts
 * const deadline = new Deadline({ timeoutMs: 10_000 });
 * await fetch('http://127.0.0.1:2379/health', { signal: deadline.signal });
 * deadline.dispose();
 * ```
 */
export class Deadline {
  /** Aborts when the deadline passes or the outer signal aborts. */
  readonly signal: AbortSignal;
  /** The clock reading at which the deadline passes, or `undefined` for none. */
  readonly expiresAt: number | undefined;
  readonly #clock: Clock;
  readonly #controller = new AbortController();
  #timer: TimerHandle | undefined;
  #outer: { signal: AbortSignal; onAbort: () => void } | undefined;

  constructor(options: DeadlineOptions = {}) {
    check.object('options', options);
    const { timeoutMs, signal, clock = systemClock } = options;
    if (timeoutMs !== undefined) check.duration('timeoutMs', timeoutMs);
    if (signal !== undefined) check.signal('signal', signal);
    check.clock('clock', clock);
    this.#clock = clock;
    this.signal = this.#controller.signal;
    this.expiresAt = timeoutMs === undefined ? undefined : clock.now() + timeoutMs;
    if (signal?.aborted) {
      this.#controller.abort(signal.reason);
      return;
    }
    if (signal) {
      const onAbort = (): void => this.#abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#outer = { signal, onAbort };
    }
    if (timeoutMs !== undefined) {
      this.#timer = clock.setTimeout(() => this.#abort(new DeadlineExceededError(timeoutMs)), timeoutMs);
    }
  }

  /** Whether the deadline has passed (or the outer signal aborted). */
  get expired(): boolean {
    return this.signal.aborted;
  }

  /** Milliseconds left (never negative); `Infinity` when there is no time limit. */
  remainingMs(): number {
    if (this.signal.aborted) return 0;
    if (this.expiresAt === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.expiresAt - this.#clock.now());
  }

  /** Stops the timer and detaches from the outer signal; the signal stays as it is. Idempotent. */
  dispose(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#outer) this.#outer.signal.removeEventListener('abort', this.#outer.onAbort);
    this.#outer = undefined;
  }

  #abort(reason: unknown): void {
    this.dispose();
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }
}
