import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  ConnectionTracker,
  type ConnectionTrackerOptions,
  ResponseGate,
  type ServerAdapter,
  type StopAcceptingOptions,
  type TrackedConnection,
} from '@quiesce/drain';
import { systemClock } from '@quiesce/hooks';
import { closeConnectionWhenClosing } from './connection-close.ts';
import { NodeAdapterOptionError } from './errors.ts';

/** A `node:http` or `node:https` server, or one a framework created (Express, Fastify, Koa …). */
export type NodeHttpServer = HttpServer | HttpsServer;

/** Options for {@link createNodeAdapter}. */
export interface NodeAdapterOptions extends Omit<ConnectionTrackerOptions, 'onForce'> {
  /**
   * Enable TCP keepalive on accepted sockets with this initial delay (ms), so that connections to
   * peers that vanished are reaped by the kernel. `false` (default) leaves the socket as Node made it.
   */
  tcpKeepAliveMs?: number | false;
  /** Use this tracker instead of creating one (its options then come from the tracker). */
  tracker?: ConnectionTracker;
  /**
   * Upper bound (ms) for holding responses before the listener closes, when responses with
   * `Connection: close` already went out (a lame duck): clients that got one are reconnecting, and a
   * connection that reaches the kernel's accept queue just before the listener closes is reset
   * with its request. Holding responses until no request has started and no response gone out for `idleGraceMs` means no
   * client is between two requests when the listener closes. Default 1000; 0 turns holding off.
   */
  holdMaxMs?: number;
  /**
   * The `node:net` Server that owns the listening socket, when it is not `server` itself: it accepts
   * connections and hands each to `server` with `server.emit('connection', socket)`.
   * `stopAccepting()` then closes this listener. Needed for Bun's `node:http` Server, which is not
   * a `net.Server` and cannot adopt an inherited socket (`listen({ fd })`); Bun's `node:net` can.
   */
  listener?: NetServer;
}

/** The Node adapter: a {@link ServerAdapter} for one `node:http` / `node:https` server. */
export interface NodeAdapter extends ServerAdapter {
  readonly server: NodeHttpServer;
}

/**
 * Attaches graceful-shutdown accounting to a Node HTTP(S) server. Wrap the server before it accepts
 * its first connection (connections accepted earlier are not tracked). From `tracker.beginShutdown()`
 * on, every response carries `Connection: close`; `stopAccepting()` closes only the listening socket
 * (unlike `server.close()`, which on Node ≥ 19 also drops idle keep-alive sockets at once and races
 * clients that are about to reuse them). Upgraded sockets are tracked apart and never closed as idle.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createNodeAdapter } from '@quiesce/node';
 *
 * const server = createServer((req, res) => res.end('ok'));
 * const adapter = createNodeAdapter(server, { idleGraceMs: 250 });
 * server.listen(3000);
 * process.once('SIGTERM', async () => {
 *   adapter.tracker.beginShutdown();
 *   await adapter.stopAccepting();
 *   await adapter.tracker.drain({ signal: AbortSignal.timeout(10_000) });
 * });
 * ```
 */
export function createNodeAdapter(server: NodeHttpServer, options: NodeAdapterOptions = {}): NodeAdapter {
  if (!isHttpServer(server)) {
    throw new NodeAdapterOptionError('server', server, 'a node:http or node:https Server (e.g. from http.createServer() or app.listen())');
  }
  if (options === null || typeof options !== 'object') throw new NodeAdapterOptionError('options', options, 'an object');
  const { tcpKeepAliveMs = false, tracker: given, holdMaxMs = 1_000, listener: givenListener, ...trackerOptions } = options;
  if (givenListener !== undefined && !(givenListener instanceof NetServer)) {
    throw new NodeAdapterOptionError('listener', givenListener, 'a node:net Server (from net.createServer()) that hands its connections to server');
  }
  if (givenListener === undefined && !(server instanceof NetServer)) {
    // Bun's node:http Server: not a net.Server, so there is no way to close only its listening socket.
    throw new NodeAdapterOptionError(
      'listener',
      givenListener,
      "a node:net Server, because this server is not a net.Server (Bun's node:http): listen with net.createServer(), hand each connection to the HTTP server with server.emit('connection', socket), and pass the net.Server as listener",
    );
  }
  const listener: NetServer = givenListener ?? (server as unknown as NetServer);
  if (typeof holdMaxMs !== 'number' || !Number.isFinite(holdMaxMs) || holdMaxMs < 0) {
    throw new NodeAdapterOptionError('holdMaxMs', holdMaxMs, 'a finite number of milliseconds ≥ 0');
  }
  if (tcpKeepAliveMs !== false && (typeof tcpKeepAliveMs !== 'number' || !Number.isFinite(tcpKeepAliveMs) || tcpKeepAliveMs < 0)) {
    throw new NodeAdapterOptionError('tcpKeepAliveMs', tcpKeepAliveMs, 'false or a finite number of milliseconds ≥ 0');
  }
  if (given !== undefined && !(given instanceof ConnectionTracker)) {
    throw new NodeAdapterOptionError('tracker', given, 'a ConnectionTracker from @quiesce/drain');
  }
  const tracker = given ?? new ConnectionTracker(trackerOptions);
  const connections = new WeakMap<Socket, TrackedConnection>();
  const closing = (): boolean => tracker.closing;
  const quietMs = trackerOptions.idleGraceMs ?? 250;
  const gate = new ResponseGate(trackerOptions.clock ?? systemClock);
  let closeResponses = 0;

  const onConnection = (socket: Socket): void => {
    if (tcpKeepAliveMs !== false) socket.setKeepAlive(true, tcpKeepAliveMs);
    let target: Socket = socket;
    const connection = tracker.connectionOpened({
      raw: socket,
      // destroySoon: FIN once pending writes are flushed, then release the fd.
      close: () => target.destroySoon(),
      destroy: () => target.destroy(),
      bytesRead: () => socket.bytesRead,
    });
    connections.set(socket, connection);
    socket.once('close', () => tracker.connectionClosed(connection));
    // https: requests arrive on the TLS socket that wraps this one; close through TLS (close_notify).
    (socket as Socket & { [retarget]?: (tls: Socket) => void })[retarget] = (tls: Socket) => {
      target = tls;
      connections.set(tls, connection);
    };
  };

  const onSecureConnection = (tls: TLSSocket): void => {
    const parent = (tls as TLSSocket & { _parent?: Socket })._parent;
    const link = parent && (parent as Socket & { [retarget]?: (tls: Socket) => void })[retarget];
    if (link) link(tls);
    else onConnection(tls);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const request = tracker.requestStarted(connections.get(req.socket));
    gate.arrived();
    closeConnectionWhenClosing(res, closing, () => closeResponses++);
    holdEndWhileGated(res, gate);
    const finished = (): void => {
      gate.departed();
      tracker.requestFinished(request);
    };
    // Node emits 'close' on every response, after 'finish' or when the client went away: one
    // listener covers both, so neither the gate nor the tracker is told twice.
    res.once('close', finished);
  };

  // Observe 'upgrade' without listening to it: a listener would change what Node does with
  // upgrade requests when the application has no handler of its own (it destroys the socket).
  const originalEmit = server.emit;
  const emit = function (this: NodeHttpServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'upgrade' || event === 'connect') {
      const socket = args[1] as Socket | undefined;
      const connection = socket && connections.get(socket);
      if (connection) tracker.connectionUpgraded(connection);
    }
    return (originalEmit as (event: string | symbol, ...args: unknown[]) => boolean).call(this, event, ...args);
  };
  server.emit = emit as typeof server.emit;
  server.prependListener('connection', onConnection);
  if (isTlsServer(server)) server.prependListener('secureConnection', onSecureConnection);
  server.prependListener('request', onRequest);

  let disposed = false;
  return {
    name: 'node',
    server,
    tracker,
    async stopAccepting(stopOptions: StopAcceptingOptions = {}): Promise<void> {
      if (!listener.listening) return;
      const { signal } = stopOptions;
      if (closeResponses > 0 && holdMaxMs > 0 && !signal?.aborted) {
        // Clients that got Connection: close are reconnecting: hold responses until they all wait.
        const stop = (): void => gate.release();
        signal?.addEventListener('abort', stop, { once: true });
        await gate.hold(quietMs, holdMaxMs);
        signal?.removeEventListener('abort', stop);
      }
      // net.Server#close: closes the listening handle only; http.Server#close would also call
      // closeIdleConnections(). New connections are refused from here on.
      if (listener.listening) NetServer.prototype.close.call(listener);
      gate.release();
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      if (server.emit === emit) server.emit = originalEmit;
      server.off('connection', onConnection);
      server.off('secureConnection', onSecureConnection);
      server.off('request', onRequest);
    },
  };
}

/**
 * Defers `res.end()` while the gate holds. Until its end, a response is not complete for the
 * client, which therefore neither sends its next request nor reconnects. (Corking the socket does
 * not work: `OutgoingMessage#end` fully uncorks it.)
 */
function holdEndWhileGated(res: ServerResponse, gate: ResponseGate): void {
  const end = res.end as (...args: unknown[]) => ServerResponse;
  res.end = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
    const held = gate.held;
    if (held === undefined) return end.apply(this, args);
    void held.then(() => end.apply(this, args));
    return this;
  } as ServerResponse['end'];
}

/** A node:http(s) Server: Node's and Deno's are net.Servers; Bun's is not, but has the same events. */
function isHttpServer(server: unknown): server is NodeHttpServer {
  if (server === null || typeof server !== 'object') return false;
  const candidate = server as Partial<HttpServer>;
  if (typeof candidate.setTimeout !== 'function') return false;
  if (server instanceof NetServer) return true;
  return typeof candidate.prependListener === 'function' && typeof candidate.emit === 'function' && typeof candidate.listen === 'function';
}

const retarget: unique symbol = Symbol('quiesce.retarget');

function isTlsServer(server: NodeHttpServer): boolean {
  return typeof (server as { addContext?: unknown }).addContext === 'function';
}
