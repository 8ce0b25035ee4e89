import type { ClientStall } from './client-stalls.ts';
import type { AmbiguousKind } from './errors.ts';

/**
 * How one request attempt ended.
 * - `ok`: a complete response arrived (any status).
 * - `refused`: the connection could not be opened (`ECONNREFUSED`, or another connect error such as
 *   a reset before the connect completed: see `refusedByErrno`); nothing was sent, a retry is safe.
 * - `ambiguous`: the request was written, then the connection reset, closed or went silent before a
 *   complete response; the client cannot know whether it was processed.
 * - `error`: anything else (a malformed response, a harness bug); see `failures`.
 */
export type AttemptOutcome = 'ok' | 'refused' | 'ambiguous' | 'error';

/** Counters of a load run, for one client or in total. `attempts` always equals the sum of the four outcomes. */
export interface LoadCounts {
  attempts: number;
  ok: number;
  refused: number;
  ambiguous: number;
  error: number;
  /** Refused attempts by system error code; `ECONNREFUSED` means nothing listened. */
  refusedByErrno: Record<string, number>;
  /** Ambiguous failures by how the connection ended. */
  ambiguousByKind: Record<AmbiguousKind, number>;
  /** TCP connections opened. */
  connections: number;
  /** Complete responses that carried `Connection: close`. */
  connectionCloseResponses: number;
  /** Complete responses by status code. */
  statuses: Record<number, number>;
}

/** The counters of one client. */
export interface ClientLoadCounts extends LoadCounts {
  /** Client index, 0-based. */
  readonly client: number;
}

/** One attempt that did not end `ok`, for diagnostics. */
export interface LoadFailure {
  readonly client: number;
  readonly outcome: Exclude<AttemptOutcome, 'ok'>;
  /** For `ambiguous`: reset, closed-without-response or timeout. */
  readonly kind: AmbiguousKind | undefined;
  /** The error's name and message. */
  readonly message: string;
  /** Milliseconds since the run started. */
  readonly atMs: number;
}

/** Why a load run stopped: `until` fired, the request budget was spent, or the time budget ran out. */
export type LoadStopReason = 'until' | 'maxRequests' | 'maxDuration';

/** The outcome of a load run. */
export interface LoadResult {
  /** Per client, by index. */
  readonly clients: readonly ClientLoadCounts[];
  /** Sum over all clients. */
  readonly totals: LoadCounts;
  /** The first failures (at most 50), in order. */
  readonly failures: readonly LoadFailure[];
  readonly stoppedBy: LoadStopReason;
  /** Wall time of the run in ms, from start until every client stopped. */
  readonly durationMs: number;
  /**
   * The longest time the client's own event loop was held up during the run, in ms. A client that
   * cannot run for longer than the server's idle grace wakes to connections the server rightly
   * closed as idle, and counts its next request on each as `ambiguous`.
   */
  readonly longestClientStallMs: number;
  /** The stalls of 50 ms or more (at most 50), in order. */
  readonly clientStalls: readonly ClientStall[];
}
