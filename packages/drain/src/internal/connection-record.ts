import type { ConnectionHandle, SocketCloser, TrackedConnection } from '../connection-handle.ts';

/** {@link ConnectionRecord.flags}: the connection was upgraded (WebSocket and the like). */
export const UPGRADED = 1;
/** {@link ConnectionRecord.flags}: the drain asked for a graceful close. */
export const CLOSE_REQUESTED = 2;
/** {@link ConnectionRecord.flags}: closed and no longer tracked; later reports about it are ignored. */
export const GONE = 4;
/**
 * {@link ConnectionRecord.flags}: a drain check found the connection idle past its grace; the next
 * check closes it unless something happened in between. Cleared by any activity.
 */
export const IDLE_SEEN = 8;
/** {@link ConnectionRecord.flags}: activity noted while serving, not yet stamped (see `ActivityBatches`). */
export const UNSETTLED = 16;

/** The closer of connections opened with a {@link ConnectionHandle}: the handle is the target. */
export const handleCloser: SocketCloser<ConnectionHandle> = {
  close: (handle) => handle.close(),
  destroy: (handle) => handle.destroy(),
  bytesRead: (handle) => handle.bytesRead?.() ?? 0,
};

/**
 * The tracker's record of one open connection, linked into a `ConnectionList`. There is one per
 * open socket, so it is kept small: counters, times and flags are plain numbers, the closer is
 * shared by every connection of its kind, and the list links live in the record itself.
 */
export class ConnectionRecord implements TrackedConnection {
  readonly id: number;
  /** What the closer acts on: the runtime socket, or the adapter's {@link ConnectionHandle}. */
  readonly target: unknown;
  readonly closer: SocketCloser<unknown>;
  prev: ConnectionRecord | undefined = undefined;
  next: ConnectionRecord | undefined = undefined;
  inFlight = 0;
  requests = 0;
  /**
   * When the connection opened or its last request ended, in whole ms (see {@link wholeMs}); while
   * serving, stamped in batches (see `ActivityBatches`).
   */
  lastActivity = 0;
  /** Bytes received when {@link ConnectionRecord.lastActivity} was stamped with no request in flight. */
  lastBytes = 0;
  /** {@link UPGRADED} | {@link CLOSE_REQUESTED} | {@link GONE} | {@link IDLE_SEEN} | {@link UNSETTLED}. */
  flags = 0;

  constructor(id: number, target: unknown, closer: SocketCloser<unknown>) {
    this.id = id;
    this.target = target;
    this.closer = closer;
  }

  /** The runtime's own socket object. */
  get raw(): unknown {
    return this.closer === handleCloser ? (this.target as ConnectionHandle).raw : this.target;
  }

  get upgraded(): boolean {
    return (this.flags & UPGRADED) !== 0;
  }

  /** Bytes received so far, or 0 when the runtime does not tell (or the socket is gone and throws). */
  bytesRead(): number {
    try {
      return this.closer.bytesRead?.(this.target) ?? 0;
    } catch {
      return 0;
    }
  }
}

/**
 * A clock reading rounded up to a whole millisecond: a small integer, which V8 stores in the record
 * itself, where a fractional `performance.now()` would cost a boxed number per connection. Rounding
 * up makes a connection look idle for less than a millisecond less, never more.
 */
export function wholeMs(now: number): number {
  return Math.ceil(now);
}
