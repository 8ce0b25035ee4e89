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
  /** Upgraded connections still open at the deadline and destroyed. */
  readonly upgradedForceClosed: number;
}
