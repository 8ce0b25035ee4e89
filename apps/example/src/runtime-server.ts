import type { ServerAdapter } from 'quiesce';

/** A started server on one runtime: its adapter and the port it really listens on. */
export interface RuntimeServer {
  readonly runtime: 'node' | 'bun' | 'deno';
  readonly adapter: ServerAdapter;
  readonly port: number;
  /**
   * Restarts without losing a request, where the runtime can (Node: the process re-executes itself
   * with its listening socket); `stop` drains this process once the new one is ready.
   */
  readonly restart?: (stop: () => Promise<unknown>) => Promise<unknown>;
}

/** What every runtime's server needs from the example. */
export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  /** Readiness and liveness at the time of a request. */
  readonly state: () => { ready: boolean; live: boolean };
  /** Aborts when the drain starts (the lifecycle's `signal`): `/events` streams end then. */
  readonly drainStarted: AbortSignal;
}
