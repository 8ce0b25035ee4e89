import { type Runtime, runtimeVersion } from './runtimes.ts';

/**
 * What a runtime (at the version children run on) does, in the terms the suites need. Suites branch
 * on these, never on the runtime's name, and every version-dependent entry has a "pins" test that
 * observes it, so an upgrade that changes the behaviour turns a test red instead of a branch stale.
 */
export interface RuntimeCapabilities {
  readonly runtime: Runtime;
  readonly version: string;
  /**
   * Quiesce sees each connection, so the shutdown report counts sockets closed idle, preconnects
   * and force-closed sockets (Node); `Bun.serve` and `Deno.serve` expose requests only.
   */
  readonly reportsSocketCounts: boolean;
  /**
   * A connection that sends nothing reaches the server, which can close it with FIN. Not on Bun:
   * TCP_DEFER_ACCEPT keeps silent connections in the kernel, away from Bun.
   */
  readonly seesSilentConnections: boolean;
  /**
   * The runtime's own server adopts an inherited listening socket (`listen({ fd })`, Node).
   * `Bun.serve` and `Deno.serve` cannot, so Quiesce serves it through node:http and says so.
   */
  readonly servesInheritedSocket: boolean;
  /**
   * A request whose head is still arriving is answered, with `Connection: close`, when shutdown
   * comes. Deno's `shutdown()` closes such a connection with FIN and no response instead.
   */
  readonly answersPartialHeadOnShutdown: boolean;
  /** `listen({ reusePort: true })` really sets SO_REUSEPORT: Node 22.12+ / 23.1+, Bun, Deno. */
  readonly reusePort: boolean;
  /** `http2.Server#close()` sends GOAWAY to open sessions and so closes idle ones: Node 24+. */
  readonly http2CloseSendsGoaway: boolean;
  /**
   * `http.Server#close()` and `closeIdleConnections()` also close connections that never sent a
   * request: Node 26. Node 20.20, 22.23 and 24.22 leave them open (until headersTimeout), so
   * `close()`'s callback waits for them.
   */
  readonly closeIdleClosesFreshConnections: boolean;
  /**
   * `http.Server` takes `keepAliveTimeoutBuffer` (Node 22.19+ / 24+): an idle keep-alive socket is
   * closed `keepAliveTimeout + keepAliveTimeoutBuffer` (default 1000) ms after its last response.
   * Node 20 adds a fixed 1 s that cannot be changed.
   */
  readonly keepAliveTimeoutBuffer: boolean;
  /**
   * Shutdown's Close frame to a WebSocket is followed by the FIN only once the peer answered or the
   * close timeout passed, so a silent peer can still be open at the deadline (Node with `ws`, Deno).
   * Bun's `ServerWebSocket#close()` sends the FIN right after the Close frame (uWS `end()`).
   */
  readonly webSocketCloseAwaitsPeer: boolean;
  /**
   * The shutdown report counts responses that were already streaming when shutdown began (Node: the
   * response objects; Bun: `server.pendingRequests`). Deno's adapter follows a response only from
   * shutdown on (following every one would cost a promise per request), so those are not counted.
   */
  readonly countsStreamsStartedBeforeShutdown: boolean;
}

/** `[major, minor, patch]` of `22.23.5` (a leading `v` is fine). */
function parts(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version.replace(/^v/, '').split('.').map(Number);
  return [major, minor, patch];
}

/** Whether `version` is at least the first of `since` whose major it has, or of a later major. */
function atLeast(version: string, ...since: string[]): boolean {
  const [major, minor, patch] = parts(version);
  for (const first of since) {
    const [m, n, p] = parts(first);
    if (major === m) return minor > n || (minor === n && patch >= p);
  }
  const lowest = Math.min(...since.map((first) => parts(first)[0]));
  return major > lowest;
}

/**
 * The capabilities of Node `version` (e.g. `process.versions.node` in a unit test).
 *
 * @example
 * ```ts
 * nodeCapabilities('22.12.0').reusePort; // true
 * nodeCapabilities('20.19.0').reusePort; // false
 * ```
 */
export function nodeCapabilities(version: string): RuntimeCapabilities {
  const [major] = parts(version);
  return {
    runtime: 'node',
    version,
    reportsSocketCounts: true,
    seesSilentConnections: true,
    servesInheritedSocket: true,
    answersPartialHeadOnShutdown: true,
    reusePort: atLeast(version, '22.12.0', '23.1.0'),
    http2CloseSendsGoaway: major >= 24,
    closeIdleClosesFreshConnections: major >= 26,
    keepAliveTimeoutBuffer: atLeast(version, '22.19.0', '24.0.0'),
    webSocketCloseAwaitsPeer: true,
    countsStreamsStartedBeforeShutdown: true,
  };
}

/**
 * The capabilities of `runtime` at the version tests run children on (for Node, the Node under
 * test: see `nodeUnderTest()`).
 *
 * @example
 * ```ts
 * if (capabilities(runtime).reportsSocketCounts) expect(report).toMatch(/1 idle-closed/);
 * ```
 */
export function capabilities(runtime: Runtime): RuntimeCapabilities {
  const version = runtimeVersion(runtime);
  if (runtime === 'node') return nodeCapabilities(version);
  return {
    runtime,
    version,
    reportsSocketCounts: false,
    seesSilentConnections: runtime !== 'bun',
    servesInheritedSocket: false,
    answersPartialHeadOnShutdown: runtime !== 'deno',
    reusePort: true,
    http2CloseSendsGoaway: false,
    closeIdleClosesFreshConnections: false,
    keepAliveTimeoutBuffer: false,
    webSocketCloseAwaitsPeer: runtime !== 'bun',
    countsStreamsStartedBeforeShutdown: runtime !== 'deno',
  };
}
