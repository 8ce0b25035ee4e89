/**
 * @module
 * Runtime-neutral in-flight accounting and the drain policy of a graceful shutdown: a lame duck in
 * which every response carries `Connection: close` and idle keep-alive sockets stay open, then a
 * drain that lets requests finish and closes idle sockets with FIN after a grace, then a force-close
 * at the deadline. Runtime adapters drive it; it imports no runtime API. `ServerAdapter` is the one
 * contract between a server and the shutdown sequence; `createFetchAdapter` builds it for fetch-style
 * runtimes (Bun, Deno) from their primitives.
 *
 * @example
 * ```ts
 * import { ConnectionTracker } from '@quiesce/drain';
 *
 * const tracker = new ConnectionTracker({ idleGraceMs: 250 });
 * const closer = { close: (socket: string) => console.log('FIN', socket), destroy: (socket: string) => console.log('RST', socket) };
 * const conn = tracker.socketOpened('socket 1', closer); // one closer for every socket of a kind
 * tracker.requestStarted(conn);
 * tracker.beginShutdown(); // responses from now on carry Connection: close
 * tracker.requestFinished(conn);
 * tracker.connectionClosed(conn);
 * console.log(await tracker.drain({ signal: AbortSignal.timeout(10_000) })); // outcome: 'drained'
 * ```
 */
export type { ConnectionState, SocketCloser, TrackedConnection } from './connection-handle.ts';
export {
  ConnectionTracker,
  type ConnectionTrackerOptions,
  type DrainOptions,
  type DrainState,
  type TrackerStats,
} from './connection-tracker.ts';
export type { DrainReport } from './drain-report.ts';
export { DrainOptionError } from './errors.ts';
export {
  type FetchAdapter,
  type FetchAdapterOptions,
  type FetchHandler,
  type FetchRuntime,
  type PromisePeek,
  type ResponseDelivery,
  createFetchAdapter,
} from './fetch-adapter.ts';
export { lameDuck } from './lame-duck.ts';
export { type HoldResult, ResponseGate } from './response-gate.ts';
export type { BeginShutdownOptions, DeadlineSignalOptions, ServerAdapter } from './server-adapter.ts';
export { isUpgradeRequest, REFUSED_UPGRADE_HTTP, REFUSED_UPGRADE_RETRY_AFTER_S, refusedUpgradeResponse } from './upgrade-refusal.ts';
export {
  type CloseAllOptions,
  type FarewellResult,
  type ShutdownReason,
  WEBSOCKET_GOING_AWAY,
  WEBSOCKET_SERVICE_RESTART,
  type WebSocketCloser,
  WebSocketFarewell,
  type WebSocketFarewellOptions,
  webSocketCloseCode,
} from './websocket-farewell.ts';
export { withConnectionClose } from './with-connection-close.ts';
