import type { Clock, TimerHandle } from '@quiesce/core';

/**
 * The time one piece of work may take: its own time limit (`Infinity` for none) and outer signals,
 * whichever ends first. `signal` aborts with `timeoutReason()` at the limit, or with an outer
 * signal's reason. `parent` caps {@link Budget.remainingMs}. Always {@link Budget.dispose} it, so
 * that no timer or listener is left behind.
 */
export class Budget {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #clock: Clock;
  readonly #expiresAt: number;
  readonly #parent: Budget | undefined;
  #timer: TimerHandle | undefined;
  #outer: { signal: AbortSignal; onAbort: () => void }[] = [];

  constructor(
    timeoutMs: number,
    outer: readonly (AbortSignal | undefined)[],
    clock: Clock,
    timeoutReason: () => unknown,
    parent?: Budget,
  ) {
    this.#clock = clock;
    this.#parent = parent;
    this.signal = this.#controller.signal;
    this.#expiresAt = clock.now() + timeoutMs;
    const signals = outer.filter((signal): signal is AbortSignal => signal !== undefined);
    const aborted = signals.find((signal) => signal.aborted);
    if (aborted) {
      this.#controller.abort(aborted.reason);
      return;
    }
    for (const signal of signals) {
      const onAbort = (): void => this.#abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#outer.push({ signal, onAbort });
    }
    if (Number.isFinite(timeoutMs)) this.#timer = clock.setTimeout(() => this.#abort(timeoutReason()), timeoutMs);
  }

  /** Milliseconds left before the own limit or the parent's (0 once aborted). */
  remainingMs(): number {
    if (this.signal.aborted) return 0;
    const own = Math.max(0, this.#expiresAt - this.#clock.now());
    return this.#parent ? Math.min(own, this.#parent.remainingMs()) : own;
  }

  /** Clears the timer and detaches from the outer signal. Idempotent. */
  dispose(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const { signal, onAbort } of this.#outer) signal.removeEventListener('abort', onAbort);
    this.#outer = [];
  }

  #abort(reason: unknown): void {
    this.dispose();
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as it aborts, whether or not
 * `work` honours the signal: a call is bounded even when a runtime's fetch is slow to give up.
 */
export function raceSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
