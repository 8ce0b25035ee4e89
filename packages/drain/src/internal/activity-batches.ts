import type { Clock, TimerHandle } from '@quiesce/core';
import { type ConnectionRecord, GONE, UNSETTLED, wholeMs } from './connection-record.ts';

/**
 * Records connection activity while serving at almost no cost per request: a connection that
 * opened or finished a request is only noted, and once per batch (`batchMs` after the first note)
 * one clock reading stamps every noted connection, whose bytes received are read then too. A stamp
 * is never earlier than the activity, so a connection never looks idle for longer than it was; it
 * is at most about `batchMs` later (more when the event loop was held up), which can only delay an
 * idle close. Idle times matter from shutdown on: the tracker then calls {@link ActivityBatches.settle}
 * and reads the clock at each event.
 *
 * Reading the bytes at the batch's end rather than at the request's end means that the first
 * bytes of a next request that arrive within the batch are taken as already seen: the drain then
 * does not count them as a request arriving, should that request still be incomplete when it runs.
 */
export class ActivityBatches {
  readonly #clock: Clock;
  readonly #batchMs: number;
  #noted: ConnectionRecord[] = [];
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, batchMs: number) {
    this.#clock = clock;
    this.#batchMs = batchMs;
  }

  /** Notes activity on `record`, to be stamped at the end of the batch. */
  note(record: ConnectionRecord): void {
    if ((record.flags & UNSETTLED) === 0) {
      record.flags |= UNSETTLED;
      this.#noted.push(record);
    }
    if (this.#timer === undefined) this.#timer = this.#clock.setTimeout(this.#batchEnded, this.#batchMs);
  }

  /** Stamps every noted connection now: its activity time, and its bytes when no request is in flight. */
  settle(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stamp();
  }

  readonly #batchEnded = (): void => {
    this.#timer = undefined;
    this.#stamp();
  };

  #stamp(): void {
    if (this.#noted.length === 0) return;
    const now = wholeMs(this.#clock.now());
    const noted = this.#noted;
    this.#noted = [];
    for (const record of noted) {
      record.flags &= ~UNSETTLED;
      if ((record.flags & GONE) !== 0) continue;
      record.lastActivity = now;
      // With a request in flight the bytes are read when it ends.
      if (record.inFlight === 0) record.lastBytes = record.bytesRead();
    }
  }
}
