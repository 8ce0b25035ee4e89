import { type IncomingMessage, type Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type BeginShutdownOptions,
  ConnectionTracker,
  type ConnectionTrackerOptions,
  type DeadlineSignalOptions,
  type DrainReport,
  REFUSED_UPGRADE_HTTP,
  ResponseGate,
  type ServerAdapter,
  type ShutdownReason,
  type TrackedConnection,
  type TrackerStats,
  WebSocketFarewell,
} from '@quiesce/drain';
import { systemClock } from '@quiesce/core';
import { closeConnectionAfter } from './connection-close.ts';
import { NodeAdapterOptionError, check } from './errors.ts';
import { type BunHttpListener, bunHttpListener } from './internal/bun-http-listener.ts';
import { holdEndWhileGated } from './internal/hold-end.ts';
import { socketCloseWatcher } from './internal/socket-close-watcher.ts';
import { type TlsCarrier, socketCloser, tlsSocketOf } from './internal/socket-closer.ts';
import { countStreamingResponses } from './internal/streaming-responses.ts';
import { type WebSocketServerLike, checkWebSocketServers, followWebSocketServers } from './websocket-servers.ts';

/** A `node:http` or `node:https` server, or one a framework created (Express, Fastify, Koa …). */
export type NodeHttpServer = HttpServer | HttpsServer;

/** Options for {@link createNodeAdapter}: the drain's (idle grace, clock …), plus the adapter's own. */
export interface NodeAdapterOptions extends Omit<ConnectionTrackerOptions, 'onForce'> {
  /**
   * A keep-alive connection with no request in flight is closed (FIN) during the drain once idle
   * this long; the response hold (`holdMaxMs`) waits for this much quiet too. Default 250.
   */
  idleGraceMs?: number;
  /**
   * Enable TCP keepalive on accepted sockets with this initial delay (ms), so that connections to
   * peers that vanished are reaped by the kernel. `false` (default) leaves the socket as Node made it.
   */
  tcpKeepAliveMs?: number | false;
  /**
   * Upper bound (ms) for holding responses before the listener closes, when responses with
   * `Connection: close` already went out (a lame duck): clients that got one are reconnecting, and a
   * connection that reaches the kernel's accept queue just before the listener closes is reset
   * with its request. Holding responses until no request has started and no response gone out for
   * `idleGraceMs` means no client is between two requests when the listener closes. The deadline
   * ends the hold at once. Default 1000; 0 turns holding off.
   */
  holdMaxMs?: number;
  /**
   * The `node:net` Server that owns the listening socket, when it is not `server` itself: it accepts
   * connections and hands each to `server` with `server.emit('connection', socket)`.
   * `stopAccepting()` then closes this listener. Needed for an inherited socket on Bun (`listen({ fd })`):
   * Bun's `node:http` Server cannot adopt one, Bun's `node:net` can. Without it, Bun's `node:http`
   * Server (no `net.Server`) is drained through its own `close()`: see the README's Bun section.
   */
  listener?: NetServer;
  /**
   * The `ws` WebSocket server(s) on this server (`new WebSocketServer({ server })`): once the listener
   * has closed, each of their WebSockets gets a Close frame with 1001 (Going Away), or 1012 (Service
   * Restart) for a restart, the handshake is awaited up to `webSocketCloseTimeoutMs`, then a silent
   * peer's connection is ended; what is open at the deadline is destroyed and counted as cut.
   * Other upgraded sockets are left to the lifecycle's `onUpgraded` hook.
   */
  webSockets?: WebSocketServerLike | readonly WebSocketServerLike[];
  /** How long the close handshake of each WebSocket is awaited before its connection is ended. Default 1000. */
  webSocketCloseTimeoutMs?: number;
}

/** The Node adapter: a {@link ServerAdapter} for one `node:http` / `node:https` server. */
export interface NodeAdapter extends ServerAdapter {
  readonly server: NodeHttpServer;
}

/**
 * Attaches graceful-shutdown accounting to a Node HTTP(S) server and returns its {@link ServerAdapter}
 * for `createLifecycle`. Wrap the server before it accepts its first connection (connections
 * accepted earlier are not tracked). From `beginShutdown()` on, every response carries
 * `Connection: close`; `stopAccepting()` closes only the listening socket (unlike `server.close()`,
 * which on Node ≥ 19 also drops idle keep-alive sockets at once and races clients that are about to
 * reuse them), after holding response ends for at most `holdMaxMs` when responses with
 * `Connection: close` already went out (the deadline ends that hold at once). Upgraded sockets are
 * tracked apart and never closed as idle. Serving stays cheap: a small record per connection, one
 * shared listener per response, and no wrapping of responses until shutdown begins (then the
 * responses in flight are switched over). On Bun's `node:http` Server, which is no `net.Server`
 * and whose own `close()` closes idle keep-alive sockets with the listener, `stopAccepting()` always
 * holds responses until none went out for `idleGraceMs` and then calls that `close()`: every socket
 * it closes has been idle that long. Throws {@link NodeAdapterOptionError} on a bad option (on
 * Bun: `tcpKeepAliveMs`, which its sockets ignore).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createNodeAdapter } from '@quiesce/node';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * const adapter = createNodeAdapter(server, { idleGraceMs: 250 });
 * server.listen(3000, '127.0.0.1');
 * process.once('SIGTERM', async () => {
 *   const signal = AbortSignal.timeout(10_000);
 *   adapter.beginShutdown();
 *   await adapter.stopAccepting({ signal });
 *   console.log(await adapter.drain({ signal }));
 * });
 * ```
 */
export function createNodeAdapter(server: NodeHttpServer, options: NodeAdapterOptions = {}): NodeAdapter {
  if (!isHttpServer(server)) {
    throw new NodeAdapterOptionError('server', server, 'a node:http or node:https Server (e.g. from http.createServer() or app.listen())');
  }
  check.object('options', options);
  const {
    tcpKeepAliveMs = false,
    holdMaxMs = 1_000,
    listener: givenListener,
    webSockets,
    webSocketCloseTimeoutMs = 1_000,
    ...trackerOptions
  } = options;
  if ('tracker' in trackerOptions) {
    throw new NodeAdapterOptionError('tracker', (trackerOptions as { tracker?: unknown }).tracker, 'no tracker: the adapter owns its own; pass its options (idleGraceMs, clock …) instead');
  }
  if (givenListener !== undefined && !(givenListener instanceof NetServer)) {
    throw new NodeAdapterOptionError('listener', givenListener, 'a node:net Server (from net.createServer()) that hands its connections to server');
  }
  const listener: NetServer = givenListener ?? (server as unknown as NetServer);
  check.duration('holdMaxMs', holdMaxMs);
  check.durationOrFalse('tcpKeepAliveMs', tcpKeepAliveMs);
  check.duration('webSocketCloseTimeoutMs', webSocketCloseTimeoutMs);
  const webSocketServers = checkWebSocketServers(webSockets);
  const tracker = new ConnectionTracker(trackerOptions);
  const farewell = new WebSocketFarewell({ closeTimeoutMs: webSocketCloseTimeoutMs, clock: trackerOptions.clock });
  const stopFollowingWebSockets = followWebSocketServers(webSocketServers, farewell);
  let reason: ShutdownReason = 'shutdown';
  // The hold waits for the same quiet as the idle grace, on the same clock (both validated by the tracker).
  const quietMs = trackerOptions.idleGraceMs ?? 250;
  const clock = trackerOptions.clock ?? systemClock;
  const gate = new ResponseGate(clock);
  // Bun's node:http Server is no net.Server: only its own close() closes its listener, and it closes
  // idle keep-alive sockets with it (see bun-http-listener.ts). Throws if that cannot be done.
  const bun: BunHttpListener | undefined =
    givenListener === undefined && !(server instanceof NetServer)
      ? bunHttpListener(server, { tcpKeepAliveMs, idleGraceMs: quietMs, clock })
      : undefined;
  const closer = bun?.closer ?? socketCloser;
  // Per adapter, so that two adapters on one server keep their records apart.
  const connectionOf = Symbol('quiesce.connection');
  type Tagged = { [connectionOf]?: TrackedConnection; _httpMessage?: unknown };
  // The response in progress on a socket is its `_httpMessage`. Only responses queued behind it
  // (pipelined requests), and those on a connection the adapter does not know (a runtime that
  // does not hand connections over) are kept here, for shutdown to find them.
  const queued = new Set<ServerResponse>();
  const loose = new Set<ServerResponse>();
  let closing = false;
  let closeResponses = 0;
  let disposed = false;
  const countCloseResponse = (): void => {
    closeResponses++;
  };

  // Until shutdown begins, a response is only counted. From then on, every response in flight and
  // every new one carries Connection: close and holds its end while the gate holds.
  const prepareForClosing = (res: ServerResponse): void => {
    closeConnectionAfter(res, countCloseResponse);
    holdEndWhileGated(res, gate);
  };
  const stopWatchingShutdown = tracker.onClosing((open) => {
    closing = true;
    for (const connection of open) {
      // Only this adapter's sockets.
      const socket = connection.raw as (TlsCarrier & Tagged) | null | undefined;
      if (connection.inFlight === 0 || !socket || socket[connectionOf] !== connection) continue;
      const current = (socket[tlsSocketOf] as (Socket & Tagged) | undefined)?._httpMessage ?? socket._httpMessage;
      if (current instanceof ServerResponse) prepareForClosing(current);
    }
    for (const res of queued) prepareForClosing(res);
    for (const res of loose) prepareForClosing(res);
  });

  // One listener for every response, not a closure per response: `this` is the response.
  const onResponseClose = function (this: ServerResponse): void {
    if (loose.size !== 0 && loose.delete(this)) {
      tracker.requestFinished();
    } else {
      const socket = this.req?.socket as (Socket & Tagged) | undefined;
      const connection = socket?.[connectionOf];
      if (connection === undefined) return;
      if (queued.size !== 0) queued.delete(this);
      tracker.requestFinished(connection);
      // After a last response Node ends the socket (destroySoon) and reports its close 1–3 ms
      // later. Over plain TCP the response is then whole in the kernel, which sends it and the
      // FIN even if the process exits first: the drain need not wait for that report.
      if (closing && connection.inFlight === 0 && endedAfterResponse(this, socket!)) tracker.connectionClosed(connection);
    }
    // On Bun every departure is timed: closing its listener closes idle sockets too, so it is held
    // until none went out for the grace, shutdown or not.
    if (closing || bun !== undefined) gate.departed();
    bun?.responseEnded(this);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as (Socket & Tagged) | null;
    const connection = socket?.[connectionOf];
    if (connection !== undefined) {
      tracker.requestStarted(connection);
      if (socket!._httpMessage !== res) queued.add(res);
    } else {
      loose.add(res);
      tracker.requestStarted();
    }
    // Node emits 'close' on every response, after 'finish' or when the client went away: one
    // listener covers both, so neither the gate nor the tracker is told twice.
    res.on('close', onResponseClose);
    if (closing) {
      gate.arrived();
      prepareForClosing(res);
    }
  };

  const watchClose = socketCloseWatcher((socket: Socket & Tagged): void => {
    const connection = socket[connectionOf];
    if (connection === undefined) return;
    // Pipelined responses still queued behind the one being written never emit 'close' (Node,
    // Deno): forget them once every 'close' listener of the socket has run.
    if (connection.inFlight > 0 && queued.size > 0) process.nextTick(forgetQueuedOn, connection);
    tracker.connectionClosed(connection);
  });
  const forgetQueuedOn = (connection: TrackedConnection): void => {
    for (const res of queued) if ((res.req?.socket as (Socket & Tagged) | undefined)?.[connectionOf] === connection) queued.delete(res);
  };

  const onConnection = (socket: Socket & Tagged): void => {
    if (socket[connectionOf] !== undefined) return;
    if (tcpKeepAliveMs !== false) socket.setKeepAlive(true, tcpKeepAliveMs);
    socket[connectionOf] = tracker.socketOpened(socket as TlsCarrier, closer);
    watchClose(socket);
  };

  // https: requests arrive on the TLS socket that wraps the TCP one; close through TLS (close_notify).
  const onSecureConnection = (tls: TLSSocket & Tagged): void => {
    const parent = (tls as TLSSocket & { _parent?: TlsCarrier & Tagged })._parent;
    const connection = parent?.[connectionOf];
    if (parent && connection) {
      parent[tlsSocketOf] = tls;
      tls[connectionOf] = connection;
    } else onConnection(tls);
  };

  const onUpgrade = (socket: (Socket & Tagged) | undefined): void => {
    const connection = socket?.[connectionOf];
    if (connection) tracker.connectionUpgraded(connection);
  };

  // Everything is observed in emit, without listeners: a 'request' listener of ours would make
  // Node copy the listener array on every request, and an 'upgrade' listener would change what
  // Node does with upgrade requests when the application has none (it destroys the socket).
  const originalEmit = server.emit as (event: string | symbol, ...args: unknown[]) => boolean;
  const emit = function (this: NodeHttpServer, event: string | symbol, ...args: unknown[]): boolean {
    if (disposed) return originalEmit.call(this, event, ...args);
    if (event === 'request') onRequest(args[0] as IncomingMessage, args[1] as ServerResponse);
    else if (event === 'connection') {
      // After the server's own listeners, which set the socket up (and may wrap it).
      try {
        return originalEmit.call(this, event, ...args);
      } finally {
        onConnection(args[0] as Socket);
      }
    } else if (event === 'secureConnection') onSecureConnection(args[0] as TLSSocket);
    else if (event === 'upgrade' || event === 'connect') {
      if (farewell.closing) {
        // The WebSockets are being closed: a new one would be too. 503 on this keep-alive connection.
        (args[1] as Socket).end(REFUSED_UPGRADE_HTTP);
        return true;
      }
      onUpgrade(args[1] as Socket | undefined);
    }
    return originalEmit.call(this, event, ...args);
  };
  server.emit = emit as typeof server.emit;

  let ready: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  return {
    name: 'node',
    server,
    ready(): Promise<void> {
      ready ??= listener.listening ? Promise.resolve() : new Promise<void>((resolve) => listener.once('listening', () => resolve()));
      return ready;
    },
    beginShutdown(beginOptions?: BeginShutdownOptions): void {
      if (!tracker.closing && beginOptions?.reason === 'restart') reason = 'restart';
      tracker.beginShutdown();
    },
    stopAccepting(stopOptions: DeadlineSignalOptions): Promise<void> {
      stopping ??= (async () => {
        const signal = stopOptions?.signal;
        tracker.beginShutdown();
        if (!listener.listening) return;
        // Clients that got Connection: close are reconnecting: hold responses until they all wait.
        // On Bun always: no client may be between two requests on the idle sockets its close() closes.
        if ((closeResponses > 0 || bun !== undefined) && holdMaxMs > 0) await gate.hold(quietMs, holdMaxMs, signal);
        // net.Server#close: closes the listening handle only; http.Server#close would also call
        // closeIdleConnections(). New connections are refused from here on.
        if (listener.listening) {
          if (bun) bun.close();
          else NetServer.prototype.close.call(listener);
        }
        gate.release();
      })();
      return stopping;
    },
    drain: (drainOptions: DeadlineSignalOptions): Promise<DrainReport> => {
      const signal = drainOptions?.signal;
      // The listener is closed: WebSockets go now, while the drain follows requests and sockets.
      void farewell.closeAll({ reason, signal });
      return tracker.drain({ signal, streaming: () => countStreamingResponses(tracker.activeConnections(), loose) });
    },
    forceClose: (): number => tracker.forceClose(),
    upgraded: (): readonly unknown[] => tracker.upgradedConnections(),
    stats: (): TrackerStats => tracker.stats(),
    dispose(): void {
      if (disposed) return;
      disposed = true;
      stopWatchingShutdown();
      stopFollowingWebSockets();
      gate.release();
      bun?.dispose();
      if (server.emit === emit) server.emit = originalEmit as typeof server.emit;
    },
  };
}

/**
 * True when `res` was sent whole on a plain TCP `socket` that Node has ended because the response
 * was its last (`Connection: close`) and that holds nothing more to write: Node closes it by itself,
 * and no byte of the response depends on this process living on.
 */
function endedAfterResponse(res: ServerResponse, socket: Socket): boolean {
  return (
    res.writableFinished &&
    socket.writableEnded &&
    socket.writableLength === 0 &&
    (socket as Socket & { encrypted?: boolean }).encrypted !== true
  );
}

/** A node:http(s) Server: Node's and Deno's are net.Servers; Bun's is not, but has the same events. */
function isHttpServer(server: unknown): server is NodeHttpServer {
  if (server === null || typeof server !== 'object') return false;
  const candidate = server as Partial<HttpServer>;
  if (typeof candidate.setTimeout !== 'function') return false;
  if (server instanceof NetServer) return true;
  return typeof candidate.prependListener === 'function' && typeof candidate.emit === 'function' && typeof candidate.listen === 'function';
}
