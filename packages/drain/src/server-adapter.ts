import type { ConnectionTracker } from './connection-tracker.ts';
import type { ResponseGate } from './response-gate.ts';

/** Options for {@link ServerAdapter.stopAccepting}. */
export interface StopAcceptingOptions {
  /** The shutdown deadline; whatever the adapter waits for before closing the listener ends with it. */
  signal?: AbortSignal;
}

/**
 * The contract between a runtime adapter (`@quiesce/node`, `@quiesce/bun`, `@quiesce/deno`, the
 * framework adapters) and the shutdown sequence. The adapter feeds its {@link ConnectionTracker}
 * and adds `Connection: close` to responses while `tracker.closing` is true.
 */
export interface ServerAdapter {
  /** Short name for reports, e.g. `node`, `bun`, `deno`, `express`. */
  readonly name: string;
  /** The tracker this adapter reports connections and requests to. */
  readonly tracker: ConnectionTracker;
  /**
   * Closes the listening socket so that new connections are refused, without touching open
   * connections. Resolves once the listener is closed; an adapter that holds responses first (see
   * {@link ResponseGate}) stops holding when `options.signal` (the deadline) aborts. Idempotent.
   */
  stopAccepting(options?: StopAcceptingOptions): Promise<void>;
  /** Removes everything the adapter attached to the server. Idempotent. */
  dispose(): void;
}
