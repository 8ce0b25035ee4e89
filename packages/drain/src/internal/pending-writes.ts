import type { Clock, TimerHandle } from '@quiesce/core';
import type { ConnectionTracker } from '../connection-tracker.ts';

const MIN_POLL_MS = 1;
const MAX_POLL_MS = 50;

/**
 * Keeps a request in flight, for the tracker, until the runtime has finished writing its response,
 * for runtimes that only count undelivered responses (`{ pending }` delivery of a fetch adapter).
 *
 * Bun gives no per-request "response sent" event, but `server.pendingRequests` counts a request
 * until its response (a streamed body included) is fully written. Exiting while it is above zero
 * cuts the response short (measured: 3.9 MB of a 32 MB body, then FIN). So once shutdown has begun,
 * requests whose response was handed to the runtime stay tracked, and are released oldest first as
 * the count falls; writes under way before shutdown are adopted, so the drain waits for them too.
 * Before shutdown nothing is polled: a request ends when its response is handed over. Requests are
 * counted with the tracker's `requestStarted()` / `requestFinished()` without a connection: no object per request.
 */
export class PendingWrites {
  readonly #tracker: ConnectionTracker;
  readonly #clock: Clock;
  /** The runtime's count of requests not yet fully answered (Bun's `server.pendingRequests`). */
  readonly #pending: () => number;
  /** Requests the adapter has not handed to the runtime yet (in the handler, or held). */
  readonly #active: () => number;
  /** Requests whose response the runtime is still writing, each counted in the tracker with `requestStarted()`. */
  #writing = 0;
  #tracking = false;
  #stopped = false;
  #timer: TimerHandle | undefined;
  #delay = MIN_POLL_MS;

  constructor(tracker: ConnectionTracker, clock: Clock, pending: () => number, active: () => number) {
    this.#tracker = tracker;
    this.#clock = clock;
    this.#pending = pending;
    this.#active = active;
  }

  /** Responses handed to the runtime and not yet written out, as far as the runtime's count tells. */
  get writing(): number {
    return this.#writing;
  }

  /**
   * A response was handed to the runtime, for a request counted with the tracker's `requestStarted()`:
   * the request ends now, or once the runtime has written it (during shutdown).
   */
  handedOver(): void {
    if (this.#stopped || (!this.#tracking && !this.#tracker.closing)) {
      this.#tracker.requestFinished();
      return;
    }
    this.#tracking = true;
    this.#writing++;
    this.#delay = MIN_POLL_MS;
    this.#schedule();
  }

  /** From now on follow the runtime's count, adopting writes it had under way. Idempotent. */
  track(): void {
    if (this.#stopped) return;
    this.#tracking = true;
    this.#cancelTimer();
    this.#reconcile();
  }

  /** Stops following the runtime (forced stop, dispose); requests still writing are finished. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#cancelTimer();
    for (; this.#writing > 0; this.#writing--) this.#tracker.requestFinished();
  }

  #reconcile(): void {
    if (this.#stopped) return;
    const outstanding = Math.max(0, this.#pending() - this.#active());
    const changed = this.#writing !== outstanding;
    for (; this.#writing > outstanding; this.#writing--) this.#tracker.requestFinished();
    for (; this.#writing < outstanding; this.#writing++) this.#tracker.requestStarted();
    this.#delay = changed ? MIN_POLL_MS : Math.min(MAX_POLL_MS, this.#delay * 2);
    if (this.#writing > 0) this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#reconcile();
    }, this.#delay);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
