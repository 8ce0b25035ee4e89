/**
 * Poll intervals that start small and double up to a ceiling, as Go's `Server.Shutdown` does, so a
 * drain reacts fast when it is nearly done and costs almost nothing when it waits for long.
 */
export class Backoff {
  readonly #min: number;
  readonly #max: number;
  #next: number;

  constructor(minMs: number, maxMs: number) {
    this.#min = minMs;
    this.#max = Math.max(minMs, maxMs);
    this.#next = minMs;
  }

  /** The next interval; each call doubles it up to the ceiling. */
  next(): number {
    const current = this.#next;
    this.#next = Math.min(this.#max, this.#next * 2);
    return current;
  }

  /** Back to the smallest interval, after something happened. */
  reset(): void {
    this.#next = this.#min;
  }
}
