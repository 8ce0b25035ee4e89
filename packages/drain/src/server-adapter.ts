import type { ConnectionTracker } from './connection-tracker.ts';

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
   * connections. Resolves once the listener is closed. Idempotent.
   */
  stopAccepting(): Promise<void>;
  /** Removes everything the adapter attached to the server. Idempotent. */
  dispose(): void;
}
