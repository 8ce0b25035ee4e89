/**
 * Where a connection is, after Go's `http.ConnState`: `new` (accepted, no request yet), `active` (a
 * request in flight), `idle` (between requests), `upgraded` (no longer HTTP: WebSocket and the like;
 * never idle), `closed` (gone; later reports about it are ignored).
 */
export type ConnectionState = 'new' | 'active' | 'idle' | 'upgraded' | 'closed';

/** A connection as the tracker sees it. Adapters keep it to report requests and the close. */
export interface TrackedConnection {
  /** The runtime's own socket object (what was given to `socketOpened`). */
  readonly raw: unknown;
  /** Where the connection is now; see {@link ConnectionState}. */
  readonly state: ConnectionState;
  /** Requests in flight on this connection (more than one when pipelined). */
  readonly inFlight: number;
}

/**
 * Closes the connections of one kind given each one's runtime socket, for
 * `ConnectionTracker#socketOpened`: one object shared by every connection of that kind, so that
 * tracking a connection allocates neither a handle nor closures. A socket of a runtime that
 * exposes none (a WebSocket of Bun's) gets a closer too, whose methods close the object given.
 */
export interface SocketCloser<Socket> {
  /**
   * Graceful close: finish pending writes, then send FIN. Called for idle connections. Return
   * `true` when `socket` is closed for good on return (released, its FIN sent): the tracker then
   * forgets it at once instead of waiting for `connectionClosed`, which a runtime reports a loop
   * turn or more later. Any other value (nothing, or whatever `socket.end()` returns) means: wait
   * for `connectionClosed`.
   */
  close(socket: Socket): unknown;
  /** Immediate close, at the deadline or on an immediate stop. */
  destroy(socket: Socket): void;
  /**
   * Total bytes received on `socket` so far. When it grows while no request is in flight, a request
   * is arriving that the server has not parsed yet, so the connection is not idle.
   */
  bytesRead?(socket: Socket): number;
}
