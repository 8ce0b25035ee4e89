/**
 * What an adapter gives the tracker for each accepted connection: two ways to close it and an
 * optional activity probe. Only the adapter touches the runtime's socket; the tracker decides when.
 */
export interface ConnectionHandle {
  /**
   * Graceful close: finish pending writes, then send FIN. Called for idle connections. Return
   * `true` when the connection is closed for good on return (the socket released, its FIN sent):
   * the tracker then forgets it at once instead of waiting for `connectionClosed`, which a runtime
   * reports a loop turn or more later (about 10 ms for 1 000 Node sockets here). Any other value
   * (nothing, or whatever `socket.end()` returns) means: wait for `connectionClosed`.
   */
  close(): unknown;
  /** Immediate close, at the deadline or on an immediate stop. */
  destroy(): void;
  /**
   * Total bytes received on the connection so far. When it grows while no request is in flight, a
   * request is arriving that the server has not parsed yet, so the connection is not idle.
   */
  bytesRead?(): number;
  /** The runtime's own socket object, handed to whoever closes upgraded connections. */
  readonly raw?: unknown;
}

/** A connection as the tracker sees it. Adapters keep it to report requests and the close. */
export interface TrackedConnection {
  readonly id: number;
  readonly raw: unknown;
  /** Whether the connection was upgraded (WebSocket and the like); upgraded ones are never idle. */
  readonly upgraded: boolean;
  /** Requests in flight on this connection. */
  readonly inFlight: number;
  /** Requests received on this connection so far. */
  readonly requests: number;
}

/** A request in flight, returned by `requestStarted` and passed back to `requestFinished`. */
export interface TrackedRequest {
  readonly connection: TrackedConnection | undefined;
  readonly startedAt: number;
}

/**
 * Closes the connections of one kind given each one's runtime socket, for
 * `ConnectionTracker#socketOpened`: one object shared by every connection of that kind, so that
 * tracking a connection allocates neither a handle nor closures. The methods mean what they mean
 * on {@link ConnectionHandle}.
 */
export interface SocketCloser<Socket> {
  /**
   * Graceful close: finish pending writes, then send FIN. Called for idle connections. Return
   * `true` when `socket` is closed for good on return, anything else to wait for
   * `connectionClosed`; see {@link ConnectionHandle.close}.
   */
  close(socket: Socket): unknown;
  /** Immediate close, at the deadline or on an immediate stop. */
  destroy(socket: Socket): void;
  /** Total bytes received on `socket` so far; see {@link ConnectionHandle.bytesRead}. */
  bytesRead?(socket: Socket): number;
}
