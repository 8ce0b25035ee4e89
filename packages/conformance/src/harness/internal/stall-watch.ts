import type { ClientStall } from '../client-stalls.ts';

/** How often the watch ticks; a tick this much late or more is no stall. */
const TICK_MS = 10;
/** Stalls shorter than this are ordinary scheduling noise and are not listed (they still count as longest). */
export const LISTED_STALL_MS = 50;
const MAX_LISTED = 50;

/**
 * Measures how long this process's event loop was held up while a load run went on: a timer that
 * should fire every 10 ms, and the lateness of each tick. A load client that cannot run (the box
 * descheduled it, a long garbage collection) cannot read what the server sent either, so a server
 * that rightly closed a connection idle for longer than its grace looks, to that client, as if it
 * had dropped a request; the stalls say when that was possible.
 */
export class StallWatch {
  readonly #startedAt: number;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #stalls: ClientStall[] = [];
  #last: number;
  #longest = 0;

  constructor() {
    this.#startedAt = performance.now();
    this.#last = this.#startedAt;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  /** Stops the watch (counting the time since the last tick) and returns what it saw. */
  stop(): { readonly longestMs: number; readonly stalls: readonly ClientStall[] } {
    clearInterval(this.#timer);
    this.#tick();
    return { longestMs: this.#longest, stalls: this.#stalls };
  }

  #tick(): void {
    const now = performance.now();
    const stalledMs = Math.round(now - this.#last - TICK_MS);
    this.#last = now;
    if (stalledMs <= 0) return;
    this.#longest = Math.max(this.#longest, stalledMs);
    if (stalledMs >= LISTED_STALL_MS && this.#stalls.length < MAX_LISTED) {
      this.#stalls.push({ atMs: Math.round(now - this.#startedAt), ms: stalledMs });
    }
  }
}
