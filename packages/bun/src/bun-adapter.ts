import {
  type FetchAdapter,
  type FetchAdapterOptions,
  type PromisePeek,
  type ServerAdapter,
  type SocketCloser,
  type TrackedConnection,
  type WebSocketCloser,
  createFetchAdapter,
} from '@quiesce/drain';
import { inheritedListeners } from '@quiesce/listener';
import { BunAdapterOptionError, BunRuntimeError, BunUnsupportedOptionError, check } from './errors.ts';
import { serveInherited } from './internal/serve-inherited.ts';

/** The options of `Bun.serve`, which {@link serveBun} takes unchanged (except `fd` and static `routes`). */
export type BunServeOptions<WebSocketData = undefined, R extends string = string> = Bun.Serve.Options<WebSocketData, R>;

/** Options for {@link serveBun}'s graceful shutdown: the drain's (`preconnectGraceMs`, `clock` …) and these. */
export interface BunAdapterOptions extends Omit<FetchAdapterOptions, 'onError'> {
  /**
   * Bun's `stop(false)` closes every idle keep-alive socket together with the listener, so
   * `stopAccepting()` first holds finished responses until no request has started and no response
   * gone out for this long (about 1 ms when already that quiet: quiet is confirmed at a second look,
   * after the runtime polled its sockets): every socket Bun then closes has been idle at least this
   * long, and every busy client gets its answer (with `Connection: close`) once the listener is
   * closed. It is the drain's idle grace too. Default 250.
   */
  idleGraceMs?: number;
  /** Upper bound for that hold when requests keep arriving; the deadline ends it at once. `0` never holds. Default 1000. */
  holdMaxMs?: number;
  /**
   * Serve a listening socket this process inherited by the systemd protocol (`LISTEN_FDS`: under
   * `quiesce run` or systemd socket activation) instead of binding `port`. `Bun.serve` cannot adopt
   * a socket, so the adapter then serves `fetch` through Bun's `node:net` + `node:http` (see
   * {@link BunAdapter.inherited}) and says so on `warn`. `false` always binds with `Bun.serve`.
   * Default true.
   */
  inherit?: boolean;
  /** Where that one notice line goes. Default `console.warn`; `false` for silence. */
  warn?: ((line: string) => void) | false;
}

/** The inherited socket a {@link BunAdapter} serves through `node:net`, when it does. */
export interface BunInheritedSocket {
  /** Its file descriptor (3 for the first). */
  readonly fd: number;
  /** Its name from LISTEN_FDNAMES, else `unknown`. */
  readonly name: string;
  /** Resolves with the address once the `node:net` Server listens on it. */
  readonly listening: Promise<{ hostname: string; port: number }>;
}

/** The Bun adapter: a {@link ServerAdapter} for one `Bun.serve` server, and the server. */
export interface BunAdapter<WebSocketData = undefined> extends ServerAdapter {
  /** The running Bun server (`Bun.serve`'s return value); undefined when serving an {@link inherited} socket. */
  readonly server: Bun.Server<WebSocketData> | undefined;
  /**
   * Set when the adapter serves a socket inherited by the systemd protocol through `node:net` +
   * `node:http` (which `Bun.serve` cannot adopt). There `fetch` gets a stand-in for its `server`
   * argument (`requestIP()`, `port`, `hostname`, `url`; `upgrade()` returns false: no WebSockets).
   */
  readonly inherited: BunInheritedSocket | undefined;
}

type Handler = (this: unknown, request: Request, server: unknown) => unknown;
type ErrorHandler = (this: unknown, error: unknown) => unknown;
type WebSocketHandlers = {
  open?: (this: unknown, ws: Bun.ServerWebSocket<unknown>) => unknown;
  close?: (this: unknown, ws: Bun.ServerWebSocket<unknown>, code: number, reason: string) => unknown;
};

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/**
 * Starts `Bun.serve(options)` with graceful shutdown built in, and returns its {@link ServerAdapter}
 * for `createLifecycle`: a thin mapping of Bun's primitives (`stop(false)`, `stop(true)`,
 * `pendingRequests`, `Bun.peek`) onto `@quiesce/drain`'s fetch adapter. From `beginShutdown()` on,
 * every response carries `Connection: close` (Bun then closes the socket after it).
 * `stopAccepting()` holds responses until requests stop arriving for `idleGraceMs` (at most
 * `holdMaxMs`, and no longer than the deadline), closes the listener with `server.stop(false)`, then
 * lets the held responses go: no client is then caught between two requests on a socket Bun closes,
 * nor reconnecting into a listener that is closing. A request stays in flight until Bun has written
 * all of its response (`server.pendingRequests`), streamed bodies included. At the deadline
 * `server.stop(true)` cuts what is left. WebSockets (`websocket` handlers) keep working during the
 * lame duck; before the listener closes each gets a Close frame with 1001 (Going Away), or 1012
 * (Service Restart) for a restart, and Bun ends its connection (FIN) right after, so `stop(false)`
 * does not wait for them forever (oven-sh/bun#34961); an upgrade request from then on gets 503 with
 * `Retry-After`. A streaming response is the application's to end (it holds the lifecycle's
 * `signal`); at the deadline it is cut and counted.
 *
 * Under `quiesce run` or systemd socket activation (a valid `LISTEN_FDS` for this pid), the
 * adapter serves the first inherited socket instead of binding `port`: `Bun.serve` cannot adopt a
 * socket, so `fetch` then runs on Bun's `node:net` + `node:http` (see {@link BunAdapter.inherited}),
 * with the same drain; one line on `warn` says so. `inherit: false` turns this off.
 *
 * Throws {@link BunAdapterOptionError} on a bad option, {@link BunUnsupportedOptionError} for `fd`
 * (which Bun ignores), for static `routes` (which Bun answers without the adapter), and for `routes`
 * or `tls` with an inherited socket; {@link BunRuntimeError} outside Bun.
 *
 * @example
 * ```ts
 * import { createLifecycle } from 'quiesce';
 * import { serveBun } from '@quiesce/bun';
 *
 * const adapter = serveBun({ port: 3000, hostname: '127.0.0.1', fetch: () => new Response('ok\n') });
 * createLifecycle({ adapter }).install(); // SIGTERM now drains and exits 0
 * ```
 */
export function serveBun<WebSocketData = undefined, R extends string = string>(
  options: BunServeOptions<WebSocketData, R>,
  adapterOptions: BunAdapterOptions = {},
): BunAdapter<WebSocketData> {
  check.object('options', options, 'the options object of Bun.serve');
  const given = options as unknown as Record<string, unknown>;
  if (given['fd'] !== undefined) {
    throw new BunUnsupportedOptionError(
      'fd',
      given['fd'],
      'Bun.serve ignores fd and listens on port 3000 (or $PORT) instead. Pass port and hostname, or unix, and let Bun bind the socket.',
    );
  }
  const fetch = given['fetch'];
  if (fetch !== undefined) check.function('fetch', fetch, 'a function (request, server) => Response');
  if (fetch === undefined && given['routes'] === undefined) throw new BunAdapterOptionError('fetch', fetch, 'a function (request, server) => Response, or routes');
  const error = given['error'];
  if (error !== undefined) check.function('error', error, 'a function (error) => Response');
  const websocket = given['websocket'];
  if (websocket !== undefined) check.object('websocket', websocket, 'an object of WebSocket handlers');
  checkRoutes(given['routes']);

  check.object('adapterOptions', adapterOptions);
  const { idleGraceMs = 250, holdMaxMs = 1_000, inherit = true, warn = console.warn, ...drainOptions } = adapterOptions;
  check.duration('idleGraceMs', idleGraceMs);
  check.duration('holdMaxMs', holdMaxMs);
  if ('tracker' in drainOptions) {
    const tracker = (drainOptions as { tracker?: unknown }).tracker;
    throw new BunAdapterOptionError('tracker', tracker, 'no tracker: the adapter owns its own; pass its options (idleGraceMs, clock …) instead');
  }
  check.boolean('inherit', inherit);
  check.log('warn', warn);
  const socket = inherit ? inheritedListeners({ warn })[0] : undefined;
  if (socket) {
    for (const option of ['routes', 'tls'] as const) {
      if (given[option] === undefined) continue;
      throw new BunUnsupportedOptionError(
        option,
        given[option],
        `This process inherited a listening socket (fd ${socket.fd}), which Bun.serve cannot adopt, so the adapter serves fetch through node:http, which has no ${option === 'routes' ? 'routes (route inside fetch instead)' : 'tls here (terminate TLS in front of the process)'}. Or pass { inherit: false } to bind with Bun.serve.`,
      );
    }
    check.function('fetch', fetch, 'a function (request, server) => Response');
    if (warn) {
      warn(`quiesce: Bun.serve cannot adopt the inherited socket (fd ${socket.fd}, ${socket.name}); serving it through node:net + node:http instead`);
    }
    const served = serveInherited(socket, fetch as Handler, error as ErrorHandler | undefined, { ...drainOptions, idleGraceMs, holdMaxMs });
    return {
      ...served.adapter,
      name: 'bun',
      server: undefined,
      inherited: { fd: socket.fd, name: socket.name, listening: served.listening },
    };
  }

  const bun = (globalThis as { Bun?: typeof Bun }).Bun;
  let server: Bun.Server<WebSocketData> | undefined;
  const served: FetchAdapter<unknown> = createFetchAdapter<unknown>(
    {
      name: 'bun',
      // stop(false) closes the listening socket before it returns (a connect right after is
      // refused). Its promise waits for every socket, idle preconnects included (up to Bun's
      // idleTimeout): the drain follows requests instead.
      closeListener: () => {
        void server?.stop(false).catch(() => {});
        return undefined;
      },
      forceClose: () => void server?.stop(true).catch(() => {}),
      // Bun says when a response is written only as a count: server.pendingRequests.
      delivery: { pending: () => server?.pendingRequests ?? 0 },
      peek: typeof bun?.peek === 'function' && typeof bun.peek.status === 'function' ? (bun.peek as PromisePeek) : undefined,
    },
    {
      ...drainOptions,
      idleGraceMs,
      holdMaxMs,
      // The server is `this` of Bun's own calls into error.
      onError: typeof error === 'function' ? (thrown) => (error as ErrorHandler).call(server, thrown) : undefined,
    },
  );

  // After the drain options are checked (by the fetch adapter), so that their errors show on any runtime.
  if (!bun || typeof bun.serve !== 'function') throw new BunRuntimeError();
  const serveOptions: Record<string, unknown> = { ...given };
  if (typeof fetch === 'function') serveOptions['fetch'] = served.wrap(fetch as Handler);
  if (given['routes'] !== undefined) serveOptions['routes'] = wrapRoutes(given['routes'] as Record<string, unknown>, served.wrap);
  if (websocket !== undefined) serveOptions['websocket'] = trackWebSockets(websocket as WebSocketHandlers, served);
  server = bun.serve(serveOptions as unknown as Bun.Serve.Options<WebSocketData, R>);
  return { ...served.adapter, server, inherited: undefined };
}

/** Static route values are answered by Bun itself, so the adapter would never see those requests. */
function checkRoutes(routes: unknown): void {
  if (routes === undefined) return;
  check.object('routes', routes, 'an object mapping paths to handler functions');
  for (const [path, value] of Object.entries(routes)) {
    const option = `routes[${JSON.stringify(path)}]`;
    if (value === false || typeof value === 'function') continue;
    if (isMethodMap(value)) {
      for (const [method, handler] of Object.entries(value)) {
        if (typeof handler !== 'function') throw unsupportedRoute(`${option}.${method}`, handler);
      }
      continue;
    }
    throw unsupportedRoute(option, value);
  }
}

function isMethodMap(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || value instanceof Response) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => HTTP_METHODS.has(key));
}

function unsupportedRoute(option: string, value: unknown): BunUnsupportedOptionError {
  return new BunUnsupportedOptionError(
    option,
    value,
    'Bun answers static routes (a Response, a file, a directory, an HTML import) itself, so during shutdown they would get no Connection: close and no accounting. Return the value from a function instead, e.g. () => response.clone().',
  );
}

function wrapRoutes(routes: Record<string, unknown>, wrap: (handler: Handler) => Handler): Record<string, unknown> {
  const wrapped: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(routes)) {
    if (typeof value === 'function') wrapped[path] = wrap(value as Handler);
    else if (isMethodMap(value)) {
      wrapped[path] = Object.fromEntries(Object.entries(value).map(([method, handler]) => [method, wrap(handler as Handler)]));
    } else wrapped[path] = value;
  }
  return wrapped;
}

/** Closes WebSockets at the drain's request (1001, going away) and at the deadline (terminate). */
const webSocketCloser: SocketCloser<Bun.ServerWebSocket<unknown>> = {
  close: (ws) => ws.close(1001, 'server shutting down'),
  destroy: (ws) => ws.terminate(),
};

/**
 * How shutdown says goodbye: a Close frame with 1001 or 1012. Bun's close() sends the FIN right after
 * it (uWS's end(); the peer's Close still arrives on the half-closed socket), so there is no silent
 * peer to end later. Closing them before stop(false) is what lets it finish (oven-sh/bun#34961).
 */
const webSocketFarewell: WebSocketCloser<Bun.ServerWebSocket<unknown>> = {
  close: (ws, code, reason) => ws.close(code, reason),
};

/** WebSockets become upgraded connections: never closed as idle, handed to `onUpgraded`, cut at the deadline. */
function trackWebSockets(handlers: WebSocketHandlers, adapter: FetchAdapter<unknown>): WebSocketHandlers {
  const connections = new WeakMap<object, TrackedConnection>();
  return {
    ...handlers,
    open(this: unknown, ws: Bun.ServerWebSocket<unknown>): unknown {
      connections.set(ws, adapter.upgradedOpened(ws, webSocketCloser, webSocketFarewell));
      return handlers.open?.call(this, ws);
    },
    close(this: unknown, ws: Bun.ServerWebSocket<unknown>, code: number, reason: string): unknown {
      const connection = connections.get(ws);
      if (connection) adapter.upgradedClosed(connection);
      return handlers.close?.call(this, ws, code, reason);
    },
  };
}
