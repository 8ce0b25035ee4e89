import type { ConnectionState, SocketCloser, TrackedConnection } from '../connection-handle.ts';

/**
 * Where a connection is, one list per phase (see `ConnectionList`). The first four are the public
 * states `new`, `idle`, `active`, `upgraded`; `RELEASING` exists only while draining, for a `new`
 * or `idle` connection that the drain asked to close (it waits for the runtime to report the
 * close); `CLOSED` is in no list.
 */
export const FRESH = 0;
export const IDLE = 1;
export const ACTIVE = 2;
export const UPGRADED = 3;
export const RELEASING = 4;
export const CLOSED = 5;
/** How many phases have a list. */
export const LISTED_PHASES = 5;

/** {@link ConnectionRecord.bits}: the phase. */
export const PHASE_MASK = 7;
/** {@link ConnectionRecord.bits}: the connection has had a request (a `new` one has not). */
export const HAD_REQUEST = 8;
/** {@link ConnectionRecord.bits}: its activity is noted but not stamped yet (see `ActivityBatches`). */
export const UNSETTLED = 16;
/** {@link ConnectionRecord.bits}: its last response was sent from shutdown on, so it said `Connection: close`. */
export const ANSWERED_CLOSING = 32;
/** {@link ConnectionRecord.bits}: the drain asked its closer to close it (FIN), as idle or preconnect. */
export const CLOSE_ASKED = 64;
/** {@link ConnectionRecord.bits} count requests in flight from this bit up. */
const IN_FLIGHT_SHIFT = 7;
export const ONE_IN_FLIGHT: number = 1 << IN_FLIGHT_SHIFT;

/**
 * The closer shared by the connections of one kind, and the tracker they belong to: one object per
 * tracker and closer, so that a record costs one field for both, and a record handed to the wrong
 * tracker is recognised.
 */
export interface ConnectionKind {
  readonly owner: object;
  readonly closer: SocketCloser<unknown>;
}

/**
 * The tracker's record of one connection. There is one per open socket, so it is kept small (seven
 * fields, 80 bytes on a 64-bit Node): phase, flags and the count of requests in flight share one
 * small integer ({@link ConnectionRecord.bits}), times are whole milliseconds, the closer is shared
 * by every connection of its kind, and the links of its phase's list live in the record itself.
 */
export class ConnectionRecord implements TrackedConnection {
  /** What the closer acts on: the runtime's socket (or whatever object the adapter gave). */
  readonly target: unknown;
  readonly kind: ConnectionKind;
  prev: ConnectionRecord | undefined = undefined;
  next: ConnectionRecord | undefined = undefined;
  /**
   * Phase (low 3 bits), the flags ({@link HAD_REQUEST}, {@link UNSETTLED}, {@link ANSWERED_CLOSING},
   * {@link CLOSE_ASKED}), then requests in flight × {@link ONE_IN_FLIGHT}.
   */
  bits: number = FRESH;
  /**
   * When the connection opened or its last request ended, in whole ms (see {@link wholeMs}); while
   * serving, stamped in batches (see `ActivityBatches`).
   */
  lastActivity = 0;
  /** Bytes received when {@link ConnectionRecord.lastActivity} was stamped. */
  lastBytes = 0;

  constructor(target: unknown, kind: ConnectionKind) {
    this.target = target;
    this.kind = kind;
  }

  get phase(): number {
    return this.bits & PHASE_MASK;
  }

  /** Moves to `phase`, keeping the flags and the count. */
  setPhase(phase: number): void {
    this.bits = (this.bits & ~PHASE_MASK) | phase;
  }

  get state(): ConnectionState {
    const phase = this.bits & PHASE_MASK;
    if (phase === RELEASING) return (this.bits & HAD_REQUEST) === 0 ? 'new' : 'idle';
    return STATE_NAMES[phase]!;
  }

  get inFlight(): number {
    return this.bits >>> IN_FLIGHT_SHIFT;
  }

  /** The runtime's own socket object. */
  get raw(): unknown {
    return this.target;
  }

  /** Bytes received so far, or 0 when the runtime does not tell (or the socket is gone and throws). */
  bytesRead(): number {
    try {
      return this.kind.closer.bytesRead?.(this.target) ?? 0;
    } catch {
      return 0;
    }
  }
}

const STATE_NAMES: readonly ConnectionState[] = ['new', 'idle', 'active', 'upgraded', 'idle', 'closed'];

/**
 * A clock reading rounded up to a whole millisecond: a small integer, which V8 stores in the record
 * itself, where a fractional `performance.now()` would cost a boxed number per connection. Rounding
 * up makes a connection look idle for less than a millisecond less, never more.
 */
export function wholeMs(now: number): number {
  return Math.ceil(now);
}
