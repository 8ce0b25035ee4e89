import { InvalidOptionError } from './errors.ts';
import { check } from './internal/check.ts';

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A `Clock` that moves only when told to, for deterministic tests without fake timers.
 * {@link ManualClock.advance} fires every due timer in time order, letting promise callbacks run
 * between timers, so code that awaits between steps behaves as it would in real time. A start
 * that is not finite, or an advance that is negative or not finite, throws `InvalidOptionError`.
 *
 * @example
 * ```ts
 * import { ManualClock } from '@quiesce/core/testing';
 *
 * const clock = new ManualClock();
 * clock.setTimeout(() => console.log('fired'), 100);
 * await clock.advance(100); // logs "fired"
 * ```
 */
// It is a `Clock` (manual-clock.test.ts checks the types) without naming one: a type shared with the
// main entry would put both entries' declarations in a shared .d.ts chunk that Deno cannot resolve.
export class ManualClock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<ManualTimer>();

  constructor(start = 0) {
    if (typeof start !== 'number' || !Number.isFinite(start)) throw new InvalidOptionError('start', start, 'a finite number of milliseconds');
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    // Like the global setTimeout, a NaN or negative delay means "as soon as possible".
    const delay = Number.isNaN(ms) ? 0 : Math.max(0, ms);
    const timer: ManualTimer = { at: this.#now + delay, seq: this.#seq++, fn };
    this.#timers.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as ManualTimer);
  }

  /** How many timers are waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in order and flushing promise jobs between them. */
  async advance(ms: number): Promise<void> {
    check.duration('ms', ms);
    const target = this.#now + ms;
    await flushPromiseJobs();
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#timers.delete(next);
      this.#now = next.at;
      next.fn();
      await flushPromiseJobs();
    }
    this.#now = target;
    await flushPromiseJobs();
  }

  #nextDue(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.at > limit) continue;
      if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    }
    return best;
  }
}

/** Lets chains of already-resolved promises run to completion (a macrotask boundary). */
function flushPromiseJobs(): Promise<void> {
  return new Promise((resolve) => globalThis.setTimeout(resolve, 0));
}
