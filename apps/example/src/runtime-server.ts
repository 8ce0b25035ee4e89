import type { ServerAdapter } from 'quiesce';

/** A started server on one runtime: its adapter and the port it really listens on. */
export interface RuntimeServer {
  readonly runtime: 'node' | 'bun' | 'deno';
  readonly adapter: ServerAdapter;
  readonly port: number;
}

/** What every runtime's server needs from the example. */
export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  /** Readiness and liveness at the time of a request. */
  readonly state: () => { ready: boolean; live: boolean };
}
