import type { TrackerStats } from './connection-tracker.ts';
import type { DrainReport } from './drain-report.ts';
import type { ShutdownReason } from './websocket-farewell.ts';

/** What a {@link ServerAdapter} waits under: the shutdown deadline. */
export interface DeadlineSignalOptions {
  /**
   * The deadline. When it aborts, whatever the call waits for ends at once: no hold, probe or
   * grace of the adapter outlives it.
   */
  readonly signal: AbortSignal;
}

/** What {@link ServerAdapter.beginShutdown} is told. */
export interface BeginShutdownOptions {
  /** Why the server stops: `shutdown` (default) or `restart`; WebSockets get 1001 or 1012 accordingly. */
  readonly reason?: ShutdownReason;
}

/**
 * The one contract between a server and the shutdown sequence (`quiesce`'s `createLifecycle`).
 * Every runtime adapter implements it (`@quiesce/node`, `@quiesce/bun`, `@quiesce/deno`, and the
 * framework adapters, which compose the Node one); the lifecycle calls nothing else, in this order:
 *
 * 1. {@link ServerAdapter.ready}, once the signal handlers are installed, to report readiness;
 * 2. on a signal: {@link ServerAdapter.beginShutdown} (the lame duck begins);
 * 3. {@link ServerAdapter.stopAccepting}, then {@link ServerAdapter.drain}, both under the deadline;
 * 4. {@link ServerAdapter.upgraded} when the drain starts, for the `onUpgraded` hook;
 * 5. {@link ServerAdapter.forceClose} on an immediate stop (a second signal).
 *
 * An adapter owns its connection accounting (a `ConnectionTracker` inside, never handed out), so
 * every setting it was given (idle grace, hold, clock) applies wherever it waits. Each method is
 * idempotent; {@link ServerAdapter.stopAccepting} and {@link ServerAdapter.drain} imply
 * {@link ServerAdapter.beginShutdown}.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createNodeAdapter } from '@quiesce/node';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * const adapter = createNodeAdapter(server);
 * server.listen(3000, '127.0.0.1');
 * await adapter.ready();
 * process.once('SIGTERM', async () => {
 *   const deadline = AbortSignal.timeout(10_000);
 *   adapter.beginShutdown();
 *   await adapter.stopAccepting({ signal: deadline });
 *   console.log(await adapter.drain({ signal: deadline }));
 * });
 * ```
 */
export interface ServerAdapter {
  /** Short name for reports: `node`, `bun`, `deno`, `express`, `fastify`. */
  readonly name: string;
  /**
   * Resolves once the server accepts connections: its listener is bound, or the socket it inherited
   * (`quiesce run`, systemd) is adopted. The moment readiness may be reported to whoever started
   * the process. Never resolves for a server that never listens; never rejects.
   */
  ready(): Promise<void>;
  /**
   * The lame duck begins: from now on every response carries `Connection: close` (decided when the
   * response is handed over, so responses already in flight get it too), while the listener still
   * accepts and idle keep-alive connections stay open; WebSockets keep working. `reason` says what
   * open WebSockets are told once the listener closes: 1001 (Going Away) for `shutdown` (default),
   * 1012 (Service Restart) for `restart`. Synchronous. Idempotent: the first call's reason counts.
   */
  beginShutdown(options?: BeginShutdownOptions): void;
  /**
   * Closes the listener(s), so that new connections are refused, and leaves open connections alone.
   * Resolves once a new connection would be refused. Before closing, an adapter may hold finished
   * responses until clients stop arriving (`holdMaxMs`), so that nobody reconnects into a closing
   * listener; when `signal` aborts, that hold and any other wait end at once and the listener closes.
   * Idempotent: later calls return the first call's promise. Never rejects.
   */
  stopAccepting(options: DeadlineSignalOptions): Promise<void>;
  /**
   * Lets requests in flight finish, closes keep-alive connections once idle for the idle grace
   * (FIN), closes the WebSockets it knows (a Close frame with 1001, or 1012 for a restart, the
   * handshake awaited up to a bound, then FIN; refusing new upgrades with 503), leaves other
   * upgraded connections and streaming responses to the application, and resolves `drained` as
   * soon as nothing is left. When
   * `signal` aborts (the deadline), destroys everything left, upgraded connections included, and
   * resolves `forced` with what was cut. Idempotent: later calls return the first call's promise.
   * Never rejects.
   */
  drain(options: DeadlineSignalOptions): Promise<DrainReport>;
  /**
   * Immediate stop (a second signal): destroys every connection now, and tells the runtime to drop
   * the ones it does not expose. Returns how many connections the adapter saw and destroyed (Bun and
   * Deno expose only WebSockets). Idempotent.
   */
  forceClose(): number;
  /** The runtime sockets of upgraded connections (WebSocket) open now, for the `onUpgraded` hook. */
  upgraded(): readonly unknown[];
  /** Counts at this moment (state, connections, idle, upgraded, requests in flight). */
  stats(): TrackerStats;
  /** Removes everything the adapter attached to the server; the server serves on as if never wrapped. Idempotent. */
  dispose(): void;
}
