import {
  ConnectionTracker,
  type ConnectionTrackerOptions,
  ResponseGate,
  type ServerAdapter,
  type TrackedConnection,
  withConnectionClose,
} from '@quiesce/drain';
import { type Clock, systemClock } from '@quiesce/core';
import { inheritedListeners } from '@quiesce/listener';
import { BunAdapterOptionError, BunRuntimeError, BunUnsupportedOptionError, check } from './errors.ts';
import { ResponseWrites } from './internal/response-writes.ts';
import { serveInherited } from './internal/serve-inherited.ts';

/** The options of `Bun.serve`, which {@link serveBun} takes unchanged (except `fd` and static `routes`). */
export type BunServeOptions<WebSocketData = undefined, R extends string = string> = Bun.Serve.Options<WebSocketData, R>;

/** Options for {@link serveBun}'s graceful shutdown. */
export interface BunAdapterOptions extends Omit<ConnectionTrackerOptions, 'onForce'> {
  /**
   * Bun's `stop(false)` closes every idle keep-alive socket together with the listener, so
   * `stopAccepting()` first holds finished responses until no request has started and no response gone out for this long (about 1 ms when already that quiet: quiet is confirmed at a second look, after the runtime polled its sockets):
   * every socket Bun then closes has been idle at least this long, and every busy client gets its
   * answer (with `Connection: close`) once the listener is closed. Default 250.
   */
  idleGraceMs?: number;
  /** Upper bound for that hold when requests keep arriving. `0` never holds. Default 1000. */
  holdMaxMs?: number;
  /**
   * Use this tracker instead of creating one. Create it with
   * `onForce: () => adapter.forceClose()` so that the deadline can still cut connections.
   */
  tracker?: ConnectionTracker;
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
  /** Closes every connection now (`server.stop(true)`); what the tracker calls at the deadline. Idempotent. */
  forceClose(): void;
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
 * for `createLifecycle`. From `tracker.beginShutdown()` on, every response carries
 * `Connection: close` (Bun then closes the socket after it). `stopAccepting()` holds responses
 * until requests stop arriving for `idleGraceMs` (at most `holdMaxMs`), closes the listener with
 * `server.stop(false)`, then lets the held responses go: no client is then caught between two
 * requests on a socket Bun closes, nor reconnecting into a listener that is closing. A request stays
 * in flight until Bun has written all of its response (`server.pendingRequests`), streamed bodies
 * included. At the deadline `server.stop(true)` cuts what is left. WebSockets are tracked as
 * upgraded connections (closed only by your `onUpgraded` hook or at the deadline).
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
  const { idleGraceMs = 250, holdMaxMs = 1_000, tracker: givenTracker, inherit = true, warn = console.warn, ...trackerOptions } = adapterOptions;
  check.duration('idleGraceMs', idleGraceMs);
  check.duration('holdMaxMs', holdMaxMs);
  if (givenTracker !== undefined && !(givenTracker instanceof ConnectionTracker)) {
    throw new BunAdapterOptionError('tracker', givenTracker, 'a ConnectionTracker from @quiesce/drain');
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
    let forced = false;
    const served = serveInherited(socket, fetch as Handler, error as ErrorHandler | undefined, {
      idleGraceMs,
      holdMaxMs,
      ...(givenTracker ? { tracker: givenTracker } : {}),
      ...trackerOptions,
    });
    return {
      name: 'bun',
      server: undefined,
      inherited: { fd: socket.fd, name: socket.name, listening: served.listening },
      tracker: served.adapter.tracker,
      forceClose(): void {
        if (forced) return;
        forced = true;
        served.adapter.tracker.forceClose();
      },
      stopAccepting: (stopOptions) => served.adapter.stopAccepting(stopOptions),
      dispose: () => served.adapter.dispose(),
    };
  }
  const clock: Clock = trackerOptions.clock ?? systemClock;

  let server: Bun.Server<WebSocketData> | undefined;
  let forced = false;
  let disposed = false;
  let active = 0;
  const forceClose = (): void => {
    if (forced) return;
    forced = true;
    writes.stop();
    gate.release();
    void server?.stop(true).catch(() => {});
  };
  const tracker = givenTracker ?? new ConnectionTracker({ idleGraceMs, ...trackerOptions, onForce: forceClose });
  const gate = new ResponseGate(clock);
  const writes = new ResponseWrites(
    tracker,
    clock,
    () => server?.pendingRequests ?? 0,
    () => active,
  );
  const bun = (globalThis as { Bun?: typeof Bun }).Bun;
  if (!bun || typeof bun.serve !== 'function') throw new BunRuntimeError();
  /** `Bun.peek`, which reads a settled promise's value synchronously; feature-detected. */
  const peek = typeof bun.peek === 'function' && typeof bun.peek.status === 'function' ? bun.peek : undefined;

  /** `this` of Bun's last call into fetch (the server), for the error handler. */
  let self: unknown;
  /** A response goes to Bun: the request is no longer in the handler, and carries Connection: close from shutdown on. */
  const handOver = (response: Response): Response => {
    gate.departed();
    active--;
    writes.handedOver();
    return tracker.closing ? withConnectionClose(response) : response;
  };
  const abandon = (): void => {
    active--;
    tracker.endRequest();
  };
  // Each request reaches exactly one of handOver and abandon, through these shared callbacks: no
  // closure per request.
  const respond = (result: unknown): unknown => {
    // Anything but a Response (an upgrade returns undefined) is Bun's to handle as it is.
    if (!(result instanceof Response)) {
      abandon();
      return result;
    }
    const held = gate.held;
    return held ? held.then(() => handOver(result)) : handOver(result);
  };
  const giveUp = (again: unknown): never => {
    abandon();
    throw again;
  };
  const fail = (thrown: unknown): unknown => {
    if (typeof error !== 'function') return giveUp(thrown);
    // The application's error page goes out like any response: held, and with Connection: close.
    let page: unknown;
    try {
      page = (error as ErrorHandler).call(self, thrown);
    } catch (again) {
      return giveUp(again);
    }
    return settle(page, respond, giveUp);
  };

  /** Runs each request through the handler: accounting, the gate, and Connection: close. */
  const wrap = (handler: Handler): Handler =>
    function (this: unknown, request: Request, bunServer: unknown): unknown {
      if (disposed) return handler.call(this, request, bunServer);
      self = this;
      gate.arrived();
      tracker.beginRequest();
      active++;
      let result: unknown;
      try {
        result = handler.call(this, request, bunServer);
      } catch (thrown) {
        return fail(thrown);
      }
      if (result instanceof Response && gate.held === undefined) return handOver(result);
      // An async handler that did not await returns a promise already fulfilled: answer with its
      // value now, as Bun does with such a promise, instead of chaining a promise on it (one more
      // promise, and a microtask turn before Bun can answer).
      if (peek !== undefined && result instanceof Promise && peek.status(result) === 'fulfilled') return respond(peek(result));
      return settle(result, respond, fail);
    };

  const served: Record<string, unknown> = { ...given };
  if (typeof fetch === 'function') served['fetch'] = wrap(fetch as Handler);
  if (given['routes'] !== undefined) served['routes'] = wrapRoutes(given['routes'] as Record<string, unknown>, wrap);
  if (websocket !== undefined) served['websocket'] = trackWebSockets(websocket as WebSocketHandlers, tracker);

  server = bun.serve(served as unknown as Bun.Serve.Options<WebSocketData, R>);
  const running = server;

  let stopping: Promise<void> | undefined;
  return {
    name: 'bun',
    server: running,
    inherited: undefined,
    tracker,
    forceClose,
    stopAccepting(): Promise<void> {
      stopping ??= (async () => {
        writes.track();
        if (!forced && holdMaxMs > 0) await gate.hold(idleGraceMs, holdMaxMs);
        // stop(false) closes the listening socket before it returns (a connect right after is
        // refused), so the held responses can go at once. Its promise waits for every socket,
        // idle preconnects included (up to Bun's idleTimeout): the drain follows requests instead.
        if (!forced) void running.stop(false).catch(() => {});
        gate.release();
      })();
      return stopping;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      writes.stop();
      gate.release();
    },
  };
}

/** Calls `next` with `value`, or with what it resolves to; `fail` for a throw or a rejection. */
function settle(value: unknown, next: (value: unknown) => unknown, fail: (error: unknown) => unknown): unknown {
  if (value instanceof Promise) return value.then(next, fail);
  if (value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function') {
    return Promise.resolve(value as PromiseLike<unknown>).then(next, fail);
  }
  return next(value);
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

/** WebSockets become upgraded connections: never closed as idle, handed to `onUpgraded`, cut at the deadline. */
function trackWebSockets(handlers: WebSocketHandlers, tracker: ConnectionTracker): WebSocketHandlers {
  const connections = new WeakMap<object, TrackedConnection>();
  return {
    ...handlers,
    open(this: unknown, ws: Bun.ServerWebSocket<unknown>): unknown {
      const connection = tracker.connectionOpened({
        raw: ws,
        close: () => ws.close(1001, 'server shutting down'),
        destroy: () => ws.terminate(),
      });
      tracker.connectionUpgraded(connection);
      connections.set(ws, connection);
      return handlers.open?.call(this, ws);
    },
    close(this: unknown, ws: Bun.ServerWebSocket<unknown>, code: number, reason: string): unknown {
      const connection = connections.get(ws);
      if (connection) tracker.connectionClosed(connection);
      return handlers.close?.call(this, ws, code, reason);
    },
  };
}

