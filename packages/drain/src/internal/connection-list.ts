import { type ConnectionRecord, GONE } from './connection-record.ts';

/**
 * The open connections, in order of arrival, as a doubly linked list through the records
 * themselves: adding and removing cost no allocation and no hashing, and an idle connection costs
 * two pointers. A record removed while a walk is under way is unlinked when the walk ends, so
 * that closing a connection from inside {@link ConnectionList.forEach} is safe.
 */
export class ConnectionList {
  #head: ConnectionRecord | undefined;
  #tail: ConnectionRecord | undefined;
  #size = 0;
  #walking = 0;
  #unlinkLater: ConnectionRecord[] = [];

  /** How many records are linked and not removed. */
  get size(): number {
    return this.#size;
  }

  /** Appends `record`. */
  add(record: ConnectionRecord): void {
    record.prev = this.#tail;
    record.next = undefined;
    if (this.#tail) this.#tail.next = record;
    else this.#head = record;
    this.#tail = record;
    this.#size++;
  }

  /**
   * Removes `record`, which the caller has flagged {@link GONE} (once per record). During a walk it
   * is skipped at once and unlinked when the walk ends.
   */
  remove(record: ConnectionRecord): void {
    this.#size--;
    if (this.#walking > 0) this.#unlinkLater.push(record);
    else this.#unlink(record);
  }

  /** Calls `visit` for every record not {@link GONE}, in order of arrival. */
  forEach(visit: (record: ConnectionRecord) => void): void {
    this.#walking++;
    try {
      for (let record = this.#head; record !== undefined; record = record.next) {
        if ((record.flags & GONE) === 0) visit(record);
      }
    } finally {
      if (--this.#walking === 0 && this.#unlinkLater.length > 0) {
        for (const record of this.#unlinkLater.splice(0)) this.#unlink(record);
      }
    }
  }

  /** The records not {@link GONE}, in order of arrival, as a new array. */
  toArray(): ConnectionRecord[] {
    const records: ConnectionRecord[] = [];
    for (let record = this.#head; record !== undefined; record = record.next) {
      if ((record.flags & GONE) === 0) records.push(record);
    }
    return records;
  }

  #unlink(record: ConnectionRecord): void {
    const { prev, next } = record;
    if (prev) prev.next = next;
    else this.#head = next;
    if (next) next.prev = prev;
    else this.#tail = prev;
    record.prev = undefined;
    record.next = undefined;
  }
}
