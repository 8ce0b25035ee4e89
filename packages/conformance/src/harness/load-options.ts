/**
 * Options shared by the load generators. Every run is bounded in count (`maxRequests`) and time
 * (`maxDurationMs`) and stays on loopback.
 */
export interface LoadOptions {
  /** Port of the server under test. */
  port: number;
  /** Loopback host only: `127.0.0.1` (default), another `127.x.y.z`, `::1` or `localhost`. */
  host?: string;
  /** Concurrent clients, 1–1000. Default 20. */
  clients?: number;
  /** Request target. Default `/`. */
  path?: string;
  /** Request method. Default `GET`. */
  method?: string;
  /** Extra request headers. */
  headers?: Readonly<Record<string, string>>;
  /** Stop starting new attempts when this promise settles or this signal aborts. */
  until?: PromiseLike<unknown> | AbortSignal;
  /** Stop after this many attempts in total over all clients (≥ 1). Default 20 000. */
  maxRequests?: number;
  /** Stop starting new attempts after this many ms. Default 10 000. */
  maxDurationMs?: number;
  /** Per attempt: connect timeout, and time to a complete response (then `ambiguous`/`timeout`). Default 5 000. */
  requestTimeoutMs?: number;
  /** Pause of a client after a failed attempt, so a closed port is not hammered. Default 5 ms. */
  retryDelayMs?: number;
}
