import type { ConnectionRecord } from './connection-record.ts';

/**
 * The connections of one phase, as a doubly linked list through the records themselves: adding and
 * removing cost no allocation and no hashing, and a connection costs two pointers. Connections are
 * appended when they enter the phase, so the idle ones are in order of their last activity: the
 * head is the one due first, and the drain never scans the rest to know when to look next.
 */
export class ConnectionList {
  head: ConnectionRecord | undefined = undefined;
  tail: ConnectionRecord | undefined = undefined;
  size = 0;

  /** Appends `record`, which is in no list. */
  push(record: ConnectionRecord): void {
    record.prev = this.tail;
    record.next = undefined;
    if (this.tail) this.tail.next = record;
    else this.head = record;
    this.tail = record;
    this.size++;
  }

  /**
   * Unlinks `record`, which is in this list. Its own links are left as they are: the next `push`
   * sets them (a request moves a connection between two lists twice), and a closed connection's
   * are cleared by the tracker.
   */
  remove(record: ConnectionRecord): void {
    const { prev, next } = record;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    this.size--;
  }

  /** Calls `visit` for every record, in order; `visit` must not change the list. */
  forEach(visit: (record: ConnectionRecord) => void): void {
    for (let record = this.head; record !== undefined; record = record.next) visit(record);
  }
}
