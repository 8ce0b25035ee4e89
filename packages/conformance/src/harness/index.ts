/**
 * @module
 * The conformance test harness: checks graceful-shutdown servers from the outside, over real
 * sockets, the way their clients and load balancers see them. Server scripts run as real Node, Bun
 * and Deno child processes (`startServer` from `@quiesce/test-support`, where the Node under test
 * is a parameter); this harness speaks HTTP/1.1 by hand so that headers and FIN versus RST are
 * visible, and drives bounded keep-alive and fresh-connection load that classifies every request
 * as `ok`, `refused` (safe to retry) or `ambiguous` (sent, then lost: the failure a graceful
 * shutdown must prevent). Node-only test tooling; loopback only.
 *
 * @example
 * ```ts
 * import { killAllChildren, type ServerHandle, startServer } from '@quiesce/test-support';
 * import { afterAll, afterEach, expect, it } from 'vitest';
 * import { fixturePath, runKeepAliveLoad } from './harness/index.ts';
 *
 * let server: ServerHandle | undefined;
 * afterEach(async () => { await server?.stop(); });
 * afterAll(() => killAllChildren());
 *
 * it('loses no request on SIGTERM under keep-alive load', async () => {
 *   server = await startServer({ runtime: 'node', script: fixturePath('plain-server.mjs') });
 *   const load = runKeepAliveLoad({ port: server.port, until: server.exited, maxDurationMs: 5_000 });
 *   setTimeout(() => server?.kill('SIGTERM'), 200);
 *   const { totals } = await load;
 *   expect(totals.ambiguous).toBe(0);
 * });
 * ```
 */
export {
  AmbiguousFailure,
  type AmbiguousKind,
  ClientStalledError,
  ConnectFailure,
  ConnectionClosedError,
  HarnessOptionError,
  ProtocolFailure,
  RefusedFailure,
} from './errors.ts';
export { assertClientKeptUp, type ClientStall } from './client-stalls.ts';
export { fixturePath } from './fixtures.ts';
export { runFreshConnectionLoad, type FreshConnectionLoadOptions } from './fresh-connection-load.ts';
export { runKeepAliveLoad, type KeepAliveLoadOptions } from './keep-alive-load.ts';
export type { LoadOptions } from './load-options.ts';
export type {
  AttemptOutcome,
  ClientLoadCounts,
  LoadCounts,
  LoadFailure,
  LoadResult,
  LoadStopReason,
} from './load-result.ts';
export {
  type ClosedBy,
  type OpenConnectionOptions,
  openConnection,
  type RawConnection,
  type RawRequestOptions,
  type RawResponse,
  type ReadResponseOptions,
} from './raw-http.ts';
export {
  type OpenWebSocketOptions,
  openWebSocket,
  type RawWebSocket,
  type ServerClose,
  type WebSocketFrame,
} from './raw-websocket.ts';
export { type EventStream, type OpenEventStreamOptions, openEventStream, type ServerSentEvent } from './sse-reader.ts';
