/**
 * @module
 * Runtime-neutral in-flight accounting and the drain policy of a graceful shutdown: a lame duck in
 * which every response carries `Connection: close` and idle keep-alive sockets stay open, then a
 * drain that lets requests finish and closes idle sockets with FIN after a grace, then a force-close
 * at the deadline. Runtime adapters drive it; it imports no runtime API.
 *
 * @example
 * ```ts
 * import { ConnectionTracker } from '@quiesce/drain';
 *
 * const tracker = new ConnectionTracker({ idleGraceMs: 250 });
 * const conn = tracker.connectionOpened({ close: () => {}, destroy: () => {} });
 * const request = tracker.requestStarted(conn);
 * tracker.beginShutdown(); // responses from now on carry Connection: close
 * tracker.requestFinished(request);
 * tracker.connectionClosed(conn);
 * console.log(await tracker.drain({ signal: AbortSignal.timeout(10_000) })); // outcome: 'drained'
 * ```
 */
export type { ConnectionHandle, ConnectionState, SocketCloser, TrackedConnection, TrackedRequest } from './connection-handle.ts';
export {
  ConnectionTracker,
  type ConnectionTrackerOptions,
  type DrainOptions,
  type DrainState,
  type TrackerStats,
} from './connection-tracker.ts';
export type { DrainReport } from './drain-report.ts';
export { DrainOptionError, InvalidOptionError, assertDuration, describeValue } from './errors.ts';
export { lameDuck } from './lame-duck.ts';
export { type HoldResult, ResponseGate } from './response-gate.ts';
export type { ServerAdapter, StopAcceptingOptions } from './server-adapter.ts';
export { withConnectionClose } from './with-connection-close.ts';
