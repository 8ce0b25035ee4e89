import type { Clock, TimerHandle } from '@quiesce/core';
import type { ConnectionList } from './connection-list.ts';
import { type ConnectionRecord, UNSETTLED, wholeMs } from './connection-record.ts';

/**
 * Records connection activity while serving at almost no cost per request: a connection that
 * opened or finished a request is only flagged (it was just appended to its list), and once per
 * batch (`batchMs` after the first note) one clock reading stamps every flagged connection, whose
 * bytes received are read then too. The flagged ones are the tails of the lists, so no array is
 * kept. A stamp is never earlier than the activity, so a connection never looks idle for longer
 * than it was; it is at most about `batchMs` later (more when the event loop was held up), which
 * can only delay an idle close. Idle times matter from shutdown on: the tracker then calls
 * {@link ActivityBatches.settle} and reads the clock at each event.
 *
 * Reading the bytes at the batch's end rather than at the request's end means that the first
 * bytes of a next request that arrive within the batch are taken as already seen: the drain then
 * does not count them as a request arriving, should that request still be incomplete when it runs.
 */
export class ActivityBatches {
  readonly #clock: Clock;
  readonly #batchMs: number;
  /** The lists whose tails hold the flagged connections (`new` and `idle` ones). */
  readonly #lists: readonly ConnectionList[];
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, batchMs: number, lists: readonly ConnectionList[]) {
    this.#clock = clock;
    this.#batchMs = batchMs;
    this.#lists = lists;
  }

  /** Notes activity on `record`, which was just appended to one of the lists: stamped at the end of the batch. */
  note(record: ConnectionRecord): void {
    record.bits |= UNSETTLED;
    if (this.#timer === undefined) this.#timer = this.#clock.setTimeout(this.#batchEnded, this.#batchMs);
  }

  /** Stamps every noted connection now, and stops the batch timer. */
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
    let now: number | undefined;
    for (const list of this.#lists) {
      for (let record = list.tail; record !== undefined && (record.bits & UNSETTLED) !== 0; record = record.prev) {
        now ??= wholeMs(this.#clock.now());
        record.bits &= ~UNSETTLED;
        record.lastActivity = now;
        record.lastBytes = record.bytesRead();
      }
    }
  }
}
