/** What the drain did, for the shutdown report and for tests. */
export interface DrainReport {
  /** `drained`: everything finished in time; `forced`: the deadline cut the rest. */
  readonly outcome: 'drained' | 'forced';
  readonly durationMs: number;
  /** Requests in flight when the drain began. */
  readonly inFlightAtStart: number;
  /** Requests that finished between the start of shutdown and the end of the drain. */
  readonly requestsCompleted: number;
  /** Requests still in flight when the deadline force-closed their connection. */
  readonly requestsCut: number;
  /** Keep-alive connections closed (FIN) after being idle for the idle grace. */
  readonly idleClosed: number;
  /** Connections that never sent a request (preconnects), closed (FIN) after the preconnect grace. */
  readonly preconnectsClosed: number;
  /** Connections (upgraded ones included) destroyed at the deadline. */
  readonly forceClosed: number;
  /** Upgraded connections (WebSocket and the like) open when the drain began. */
  readonly upgradedAtStart: number;
  /**
   * Upgraded connections (WebSockets) that closed between the start of shutdown and the end of the
   * drain: by a close handshake (the adapter sends 1001, or 1012 for a restart, once the listener
   * closes), by the peer, or with FIN when the handshake went unanswered. Not cut.
   */
  readonly upgradedClosed: number;
  /** Upgraded connections still open at the deadline and destroyed. */
  readonly upgradedForceClosed: number;
  /**
   * Streaming responses (head sent, body still going: Server-Sent Events, long downloads) when the
   * drain began. The application ends them (it holds the lifecycle's signal); 0 where the adapter
   * cannot see them (see the adapter's docs).
   */
  readonly streamsAtStart: number;
  /** Streaming responses still going at the deadline, and cut with their connection. */
  readonly streamsCut: number;
}
