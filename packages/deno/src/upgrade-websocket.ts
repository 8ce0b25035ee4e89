import type { FetchAdapter, SocketCloser, WebSocketCloser } from '@quiesce/drain';
import { DenoRuntimeError, DenoWebSocketUnsupportedError } from './errors.ts';

/** What `Deno.upgradeWebSocket` takes besides the request. */
export interface UpgradeWebSocketOptions {
  /** The subprotocol to accept. */
  protocol?: string;
  /** Seconds without a pong after which Deno closes the socket (Deno's default 120; 0 turns pings off). */
  idleTimeout?: number;
}

/** What {@link upgradeWebSocket} returns, as `Deno.upgradeWebSocket` does: return `response` from the handler. */
export interface WebSocketUpgrade {
  readonly response: Response;
  readonly socket: WebSocket;
}

/** What the tracking needs of a fetch adapter. */
type Served = Pick<FetchAdapter<unknown>, 'upgradedOpened' | 'upgradedClosed'>;
type DenoUpgrade = (request: Request, options?: UpgradeWebSocketOptions) => WebSocketUpgrade;

/** Marks a handler that runs on an inherited socket (node:http), where Deno cannot upgrade. */
const INHERITED = 'inherited';
/** The adapter whose handler runs right now (set around each call), and every live one. */
let dispatching: Served | typeof INHERITED | undefined;
const live = new Set<Served>();

/**
 * The tracker's closer: a Deno WebSocket cannot be destroyed; the deadline's `abort` of the server
 * (before `shutdown()`) or the process exit that follows the deadline cuts it.
 */
const trackerCloser: SocketCloser<WebSocket> = {
  close: (ws) => ws.close(1001, 'server shutting down'),
  destroy: () => {},
};
/** The farewell's: a Close frame; Deno's `shutdown()` ends a silent peer's connection with FIN. */
const farewellCloser: WebSocketCloser<WebSocket> = {
  close: (ws, code, reason) => {
    if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
  },
};

/**
 * `Deno.upgradeWebSocket(request, options)`, plus graceful shutdown for the WebSocket: use it in a
 * `serveDeno` handler instead of `Deno.upgradeWebSocket`. Once the socket opens it is tracked by the
 * adapter serving the request: during the lame duck it keeps working; when the listener closes it
 * gets a Close frame with 1001 (Going Away), or 1012 (Service Restart) for a restart (Deno's own
 * `shutdown()` would send 1001 even then), the handshake is awaited up to `webSocketCloseTimeoutMs`,
 * then `shutdown()` ends what is left with FIN; at the deadline it is counted as cut. Outside a
 * `serveDeno` handler (another server, a handler that awaited first with two adapters running) the
 * socket is upgraded but not tracked. Throws {@link DenoWebSocketUnsupportedError} for a request
 * served on an inherited socket (through `node:http`, where Deno cannot upgrade), what
 * `Deno.upgradeWebSocket` throws (a request that is not an upgrade), and {@link DenoRuntimeError}
 * outside Deno.
 *
 * @example
 * ```ts
 * import { serveDeno, upgradeWebSocket } from '@quiesce/deno';
 *
 * const adapter = serveDeno({
 *   port: 8000,
 *   handler: (request) => {
 *     if (request.headers.get('upgrade') !== 'websocket') return new Response('ok\n');
 *     const { socket, response } = upgradeWebSocket(request);
 *     socket.onmessage = (event) => socket.send(event.data);
 *     return response;
 *   },
 * });
 * ```
 */
export function upgradeWebSocket(request: Request, options?: UpgradeWebSocketOptions): WebSocketUpgrade {
  const upgrade = (globalThis as { Deno?: { upgradeWebSocket?: DenoUpgrade } }).Deno?.upgradeWebSocket;
  if (typeof upgrade !== 'function') throw new DenoRuntimeError();
  if (dispatching === INHERITED) throw new DenoWebSocketUnsupportedError();
  const result = upgrade(request, options);
  // The handler's own adapter; after an await, the only one running (the usual case), else none.
  const served = dispatching ?? (live.size === 1 ? live.values().next().value : undefined);
  if (served) track(served, result.socket);
  return result;
}

function track(served: Served, socket: WebSocket): void {
  socket.addEventListener(
    'open',
    () => {
      const connection = served.upgradedOpened(socket, trackerCloser, farewellCloser);
      socket.addEventListener('close', () => served.upgradedClosed(connection), { once: true });
    },
    { once: true },
  );
}

/**
 * Wraps a handler so that {@link upgradeWebSocket} called while it runs knows its adapter, and
 * registers the adapter until `stop` is called. Costs each request two assignments, no allocation.
 */
export function dispatchTo<Handler extends (this: unknown, request: Request, info: never) => unknown>(
  served: Served | typeof INHERITED,
  handler: Handler,
): { handler: Handler; stop: () => void } {
  if (served !== INHERITED) live.add(served);
  const wrapped = function (this: unknown, request: Request, info: never): unknown {
    const previous = dispatching;
    dispatching = served;
    try {
      return handler.call(this, request, info);
    } finally {
      dispatching = previous;
    }
  } as Handler;
  return { handler: wrapped, stop: () => void (served !== INHERITED && live.delete(served)) };
}
