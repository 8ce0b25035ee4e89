import { systemClock } from '@quiesce/core';
import type { SocketCloser, TrackedConnection } from './connection-handle.ts';
import { ConnectionTracker, type ConnectionTrackerOptions, type TrackerStats } from './connection-tracker.ts';
import type { DrainReport } from './drain-report.ts';
import { DrainOptionError, check } from './errors.ts';
import { PendingWrites } from './internal/pending-writes.ts';
import { ResponseGate } from './response-gate.ts';
import type { BeginShutdownOptions, DeadlineSignalOptions, ServerAdapter } from './server-adapter.ts';
import { isUpgradeRequest, refusedUpgradeResponse } from './upgrade-refusal.ts';
import { type ShutdownReason, type WebSocketCloser, WebSocketFarewell } from './websocket-farewell.ts';
import { withConnectionClose } from './with-connection-close.ts';

/** Reads a settled promise synchronously, as `Bun.peek` does: the value, and `status()`. */
export interface PromisePeek {
  (promise: Promise<unknown>): unknown;
  status(promise: Promise<unknown>): 'pending' | 'fulfilled' | 'rejected';
}

/**
 * How the runtime tells that a response it was handed has been delivered, streamed body included.
 * Used from shutdown on (while serving, a request ends when its response is handed over):
 * - `completed(context)`: a promise per request that settles once it is delivered or abandoned
 *   (Deno's `info.completed`);
 * - `pending()`: only a count of requests not yet fully answered (Bun's `server.pendingRequests`),
 *   followed while anything is outstanding (a timer from 1 ms, doubling to 50 ms while nothing moves).
 */
export type ResponseDelivery<Context> =
  | { readonly completed: (context: Context) => PromiseLike<unknown> | undefined }
  | { readonly pending: () => number };

/**
 * The primitives a fetch-style runtime (`Bun.serve`, `Deno.serve`) hands to {@link createFetchAdapter}:
 * how to close its listener, how to force, how a response is known delivered. The policy (request
 * accounting, the response gate, `Connection: close`, the error page) is the fetch adapter's.
 */
export interface FetchRuntime<Context> {
  /** The adapter's name in reports: `bun`, `deno`. */
  readonly name: string;
  /**
   * Closes the listening socket (Bun's `stop(false)`, Deno's `shutdown()`, which close idle
   * keep-alive sockets with it). Returns, or resolves, once a new connection would be refused; the
   * adapter stops waiting for that at the deadline. Called at most once, and never after a force.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: `void` lets a primitive that returns nothing (`() => server.stop(false)`) type-check.
  closeListener(): PromiseLike<unknown> | void;
  /**
   * After {@link FetchRuntime.closeListener}: settles once the runtime has finished every
   * connection it still serves (Deno's `server.finished`). The drain waits for it too, without
   * counting it as a request; the deadline abandons it.
   */
  finished?(): PromiseLike<unknown>;
  /** Drops every connection now (Bun's `stop(true)`); at the deadline and on an immediate stop. */
  forceClose(): void;
  /** How a response handed over during shutdown is known delivered; default: when it is handed over. */
  delivery?: ResponseDelivery<Context>;
  /**
   * Reads a fulfilled promise synchronously (`Bun.peek`): a handler that returns a promise already
   * fulfilled (an `async` handler that did not await) is answered at once, without chaining a promise.
   */
  peek?: PromisePeek;
  /**
   * The answer when the handler throws and no `onError` was given (Deno: log it, answer 500).
   * Absent: the error goes back to the runtime, which answers with its own error page (Bun).
   */
  fallbackError?(error: unknown): Response;
  /** Settles once the server listens; absent: it already does. A rejection means it never will. */
  listening?: PromiseLike<unknown>;
  /**
   * Whether `request` came over HTTP/2, for a runtime whose listener close sends its HTTP/2
   * sessions a GOAWAY (Deno's `shutdown()`). Given this, an HTTP/2 response never gets a
   * `Connection` header, and `stopAccepting()` holds until no HTTP/2 handler runs either (at most
   * `holdMaxMs`), then hands the HTTP/2 responses over and closes the listener in the same turn, so
   * that they go out ahead of the GOAWAY: Deno drops the connection of a client that answers its
   * GOAWAY with one of its own (Node's does), with every stream not answered yet. From then on HTTP/2
   * responses go out at once, the others once the listener is closed. An HTTP/2 response whose
   * handler still ran when the listener closed counts as cut in the drain report (the runtime does
   * not say whether it dropped it), and the drain's outcome is `forced`. Asked only during shutdown.
   */
  isHttp2?(request: Request): boolean;
}

/** Options for {@link createFetchAdapter}: the drain's, plus the response hold and the error page. */
export interface FetchAdapterOptions extends Omit<ConnectionTrackerOptions, 'onForce'> {
  /**
   * The quiet time the response hold waits for before the listener closes, and the idle grace of
   * keep-alive connections during the drain. Default 250.
   */
  idleGraceMs?: number;
  /** Upper bound for the response hold when requests keep arriving. `0` never holds. Default 1000. */
  holdMaxMs?: number;
  /**
   * How long the close handshake of each WebSocket is awaited, once it was sent its Close frame (1001,
   * or 1012 for a restart), before the listener closes and the runtime ends it. Default 1000.
   */
  webSocketCloseTimeoutMs?: number;
  /**
   * The application's error page, for a handler that throws or rejects (Bun's `error`, Deno's
   * `onError`). Its answer goes out like any response: held, and with `Connection: close` during
   * shutdown. When it throws too, the error goes back to the runtime.
   */
  onError?: (error: unknown) => unknown;
}

/** A request handler of a fetch-style runtime: `(request, context)`, `this` passed through. */
export type FetchHandler<Context> = (this: unknown, request: Request, context: Context) => unknown;

/**
 * The {@link ServerAdapter} of a fetch-style server, and what the runtime adapter feeds it: every
 * handler goes through {@link FetchAdapter.wrap}, upgraded connections the runtime exposes
 * (WebSockets) through {@link FetchAdapter.upgradedOpened}.
 */
export interface FetchAdapter<Context> {
  /** The contract the lifecycle drives; a plain object of methods (spread it to add members). */
  readonly adapter: ServerAdapter;
  /**
   * Wraps a request handler: each request is counted until its response is handed over (or, from
   * shutdown on, delivered); while the response gate holds, the response waits; from shutdown on it
   * carries `Connection: close`; a throw or rejection is answered by `onError` (or the runtime's
   * fallback). A handler's answer that is not a `Response` (Bun's `undefined` after an upgrade) is
   * returned as it is. After {@link ServerAdapter.dispose}, requests go straight to the handler.
   */
  wrap(handler: FetchHandler<Context>): FetchHandler<Context>;
  /**
   * Records an upgraded connection (a WebSocket) given its runtime socket and the closer shared by
   * all of them: never closed as idle, handed to `onUpgraded`, destroyed at the deadline. With a
   * `webSocket` closer, shutdown sends it a Close frame (1001, or 1012 for a restart) before the
   * listener closes, and awaits the handshake up to `webSocketCloseTimeoutMs`.
   */
  upgradedOpened<Socket>(socket: Socket, closer: SocketCloser<Socket>, webSocket?: WebSocketCloser<Socket>): TrackedConnection;
  /** Records that an upgraded connection closed. Idempotent. */
  upgradedClosed(connection: TrackedConnection): void;
}

/**
 * Builds the graceful-shutdown side of a fetch-style server from the runtime's primitives: one
 * request policy for `Bun.serve` and `Deno.serve` (and any runtime like them). From
 * {@link ServerAdapter.beginShutdown} on, every response carries `Connection: close`.
 * {@link ServerAdapter.stopAccepting} holds finished responses until no request has started and no
 * response gone out for `idleGraceMs` (at most `holdMaxMs`; at once when the deadline aborts), closes
 * the listener, waits until a connection would be refused (not past the deadline), then lets the held
 * responses go: no client is then caught between two requests on a socket the runtime closes, nor
 * reconnecting into a closing listener. A request stays in flight until its response is delivered
 * ({@link FetchRuntime.delivery}). At the deadline the runtime's `forceClose()` cuts what is left.
 *
 * Serving costs little: a request that is answered at once allocates nothing of the adapter's and
 * reads the clock once (the response's departure); see {@link ResponseGate}.
 * Throws {@link DrainOptionError} on a bad option.
 *
 * @example
 * ```ts
 * const served = createFetchAdapter<unknown>(
 *   { name: 'bun', closeListener: () => void server.stop(false), forceClose: () => void server.stop(true) },
 *   { idleGraceMs: 250 },
 * );
 * const server = Bun.serve({ port: 3000, fetch: served.wrap(() => new Response('ok\n')) });
 * createLifecycle({ adapter: served.adapter }).install();
 * ```
 */
export function createFetchAdapter<Context>(runtime: FetchRuntime<Context>, options: FetchAdapterOptions = {}): FetchAdapter<Context> {
  check.object('runtime', runtime, 'an object of runtime primitives');
  check.string('runtime.name', runtime.name);
  for (const name of ['closeListener', 'forceClose'] as const) check.function(`runtime.${name}`, runtime[name]);
  check.object('options', options);
  const { idleGraceMs = 250, holdMaxMs = 1_000, webSocketCloseTimeoutMs = 1_000, onError, clock = systemClock, ...trackerOptions } = options;
  check.duration('idleGraceMs', idleGraceMs);
  check.duration('holdMaxMs', holdMaxMs);
  check.duration('webSocketCloseTimeoutMs', webSocketCloseTimeoutMs);
  if (onError !== undefined) check.function('onError', onError, 'a function (error) => Response');
  const { delivery, peek, fallbackError, listening, isHttp2 } = runtime;
  if (isHttp2 !== undefined) check.function('runtime.isHttp2', isHttp2);

  let forced = false;
  let disposed = false;
  /** Requests counted and not handed over yet: in the handler, or held. */
  let active = 0;
  /**
   * With `isHttp2`: the requests whose handler runs. Their protocol is asked only from shutdown on
   * (`isHttp2` may cost a header read), so that the hold waits for running HTTP/2 handlers only: a
   * slow HTTP/1.1 request does not keep the listener open.
   */
  const running = isHttp2 === undefined ? undefined : new Set<Request>();
  /** With `isHttp2`: whether an HTTP/2 request's handler still runs. */
  const http2Running = (): boolean => {
    for (const request of running!) if (isHttp2!(request)) return true;
    return false;
  };
  /** With `isHttp2`, from `stopAccepting()` on: HTTP/2 responses wait for this instead of the gate. */
  let early: Promise<void> | undefined;
  let sendEarly: () => void = noop;
  let listenerClosed = false;
  /** HTTP/2 responses handed over after the listener closed, whose handler ran when it did. */
  let unconfirmed = 0;
  const releaseAll = (): void => {
    sendEarly();
    gate.release();
  };
  const force = (): void => {
    if (forced) return;
    forced = true;
    writes?.stop();
    releaseAll();
    runtime.forceClose();
  };
  const tracker = new ConnectionTracker({ ...trackerOptions, idleGraceMs, clock, onForce: force });
  const gate = new ResponseGate(clock);
  const farewell = new WebSocketFarewell({ closeTimeoutMs: webSocketCloseTimeoutMs, clock });
  let reason: ShutdownReason = 'shutdown';
  /** From the farewell on, an upgrade request is answered 503 (the WebSockets are being closed). */
  let refusingUpgrades = false;
  /** Responses handed over during shutdown and not yet delivered (a runtime with `completed`). */
  let delivering = 0;
  const writes =
    delivery !== undefined && 'pending' in delivery
      ? new PendingWrites(tracker, clock, delivery.pending, () => active)
      : undefined;
  const completed = delivery !== undefined && 'completed' in delivery ? delivery.completed : undefined;

  const delivered = (): void => {
    delivering--;
    tracker.requestFinished();
  };
  /**
   * A response goes to the runtime: the request ends now, or from shutdown on once it is delivered.
   * From shutdown on it carries `Connection: close`, unless it is an HTTP/2 one (`http2`).
   */
  const handOver = (response: Response, context: Context, http2 = false): Response => {
    gate.departed();
    active--;
    if (!tracker.closing) {
      tracker.requestFinished();
      return response;
    }
    if (writes !== undefined) writes.handedOver();
    else {
      const done = completed?.(context);
      if (done) {
        delivering++;
        done.then(delivered, delivered);
      } else tracker.requestFinished();
    }
    return http2 ? response : withConnectionClose(response);
  };
  /** Nothing (of the adapter's) goes out for this request: it ends now. */
  const abandon = (): void => {
    active--;
    tracker.requestFinished();
  };
  const giveUp = (error: unknown): never => {
    abandon();
    throw error;
  };
  /** An HTTP/2 response (see `isHttp2`) of a request that started before the listener closed goes out after: unconfirmed. */
  const handOverLate = (response: Response, context: Context): Response => {
    unconfirmed++;
    return handOver(response, context, true);
  };
  /**
   * The handler's answer goes out, through the gate. `request` and `openAtStart` (the listener was
   * open when the request started) are given only when the runtime tells HTTP/2 requests apart.
   */
  const respond = (result: unknown, context: Context, request?: Request, openAtStart?: boolean): unknown => {
    if (request !== undefined) running?.delete(request);
    // Anything but a Response (Bun's undefined after an upgrade) is the runtime's to handle as it is.
    if (!(result instanceof Response)) {
      abandon();
      return result;
    }
    const http2 = request !== undefined && isHttp2 !== undefined && tracker.closing && isHttp2(request);
    const late = http2 && openAtStart === true;
    const held = gate.held;
    if (held === undefined) return late && listenerClosed ? handOverLate(result, context) : handOver(result, context, http2);
    // No HTTP/2 handler runs any more: the hold may end now (see the busy check in stopAccepting).
    if (running !== undefined && !http2Running()) gate.wake();
    return (http2 && early !== undefined ? early : held).then(() =>
      late && listenerClosed ? handOverLate(result, context) : handOver(result, context, http2),
    );
  };
  const fail = (error: unknown, context: Context, request?: Request, openAtStart?: boolean): unknown => {
    if (request !== undefined) running?.delete(request);
    if (onError === undefined) return fallbackError ? respond(fallbackError(error), context, request, openAtStart) : giveUp(error);
    // The application's error page goes out like any response: held, and with Connection: close.
    let page: unknown;
    try {
      page = onError(error);
    } catch (again) {
      return giveUp(again);
    }
    return isThenable(page)
      ? Promise.resolve(page).then((value) => respond(value, context, request, openAtStart), giveUp)
      : respond(page, context, request, openAtStart);
  };
  // A runtime whose delivery needs the request's context, or that picks responses, gets them
  // through closures; else every request shares these two callbacks.
  const respondShared = (result: unknown): unknown => respond(result, undefined as Context);
  const failShared = (error: unknown): unknown => fail(error, undefined as Context);
  const shared = completed === undefined && isHttp2 === undefined;
  const settle = (result: unknown, context: Context, request?: Request, openAtStart?: boolean): unknown => {
    if (!isThenable(result)) return respond(result, context, request, openAtStart);
    const promise = result instanceof Promise ? result : Promise.resolve(result);
    if (shared) return promise.then(respondShared, failShared);
    return promise.then(
      (value: unknown) => respond(value, context, request, openAtStart),
      (error: unknown) => fail(error, context, request, openAtStart),
    );
  };

  const wrap = (handler: FetchHandler<Context>): FetchHandler<Context> => {
    check.function('handler', handler, 'a function (request, context) => Response');
    return function (this: unknown, request: Request, context: Context): unknown {
      if (disposed) return handler.call(this, request, context);
      gate.arrived();
      tracker.requestStarted();
      active++;
      running?.add(request);
      const openAtStart = !listenerClosed;
      let result: unknown;
      try {
        // While the WebSockets are being closed, a new one would be closed at once: 503, try elsewhere.
        result = refusingUpgrades && isUpgradeRequest(request) ? refusedUpgradeResponse() : handler.call(this, request, context);
      } catch (thrown) {
        return fail(thrown, context, request, openAtStart);
      }
      if (result instanceof Response && gate.held === undefined) {
        running?.delete(request);
        return handOver(result, context, isHttp2 !== undefined && tracker.closing && isHttp2(request));
      }
      // A promise already fulfilled (an async handler that did not await): answer with its value
      // now, as the runtime does with such a promise, instead of chaining a promise on it.
      if (peek !== undefined && result instanceof Promise && peek.status(result) === 'fulfilled') return respond(peek(result), context, request, openAtStart);
      return settle(result, context, request, openAtStart);
    };
  };

  /** Responses streaming now: handed to the runtime and not yet written out. */
  const streaming = (): number => writes?.writing ?? delivering;

  let ready: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let draining: Promise<DrainReport> | undefined;
  const adapter: ServerAdapter = {
    name: runtime.name,
    ready(): Promise<void> {
      ready ??= listening === undefined ? Promise.resolve() : Promise.resolve(listening).then(noop, () => new Promise<void>(noop));
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
        writes?.track();
        if (isHttp2 !== undefined && !forced) early ??= new Promise<void>((resolve) => (sendEarly = resolve));
        // HTTP/2 responses must all be out before the close: hold until no HTTP/2 handler runs either.
        const busy = running === undefined ? undefined : http2Running;
        if (!forced && holdMaxMs > 0) await gate.hold(idleGraceMs, holdMaxMs, signal, busy);
        // WebSockets first: a runtime's own listener close would send its own code (Deno: 1001
        // even for a restart), or wait for them forever (Bun's stop(false), oven-sh/bun#34961).
        refusingUpgrades = true;
        if (!forced) await farewell.closeAll({ reason, signal });
        if (!forced) {
          if (early !== undefined) {
            sendEarly();
            // Their way to the runtime takes a few promise hops (the handler's promise, the
            // runtime's await): let them happen, with no I/O in between, before the close.
            for (let hop = 0; hop < EARLY_HOPS; hop++) await undefined;
          }
          listenerClosed = true;
          const refused = runtime.closeListener();
          const finished = runtime.finished?.();
          if (finished) tracker.waitFor(finished);
          if (isThenable(refused)) await untilAborted(refused, signal);
        }
        releaseAll();
      })();
      return stopping;
    },
    drain(drainOptions: DeadlineSignalOptions): Promise<DrainReport> {
      // HTTP/2 responses the runtime may have dropped (see isHttp2) are cut, not completed.
      draining ??= tracker.drain({ signal: drainOptions?.signal, streaming }).then((report) =>
        unconfirmed === 0
          ? report
          : {
              ...report,
              outcome: 'forced',
              requestsCompleted: Math.max(0, report.requestsCompleted - unconfirmed),
              requestsCut: report.requestsCut + unconfirmed,
            },
      );
      return draining;
    },
    forceClose: (): number => tracker.forceClose(),
    upgraded: (): readonly unknown[] => tracker.upgradedConnections(),
    stats: (): TrackerStats => tracker.stats(),
    dispose(): void {
      if (disposed) return;
      disposed = true;
      writes?.stop();
      releaseAll();
    },
  };
  return {
    adapter,
    wrap,
    upgradedOpened<Socket>(socket: Socket, closer: SocketCloser<Socket>, webSocket?: WebSocketCloser<Socket>): TrackedConnection {
      const connection = tracker.socketOpened(socket, closer);
      tracker.connectionUpgraded(connection);
      if (webSocket !== undefined) farewell.opened(socket, webSocket);
      return connection;
    },
    upgradedClosed(connection: TrackedConnection): void {
      farewell.closed(connection.raw);
      tracker.connectionClosed(connection);
    },
  };
}

function noop(): void {}

/** Microtask hops an HTTP/2 response takes at most to reach the runtime once let go (measured on Deno: 4). */
const EARLY_HOPS = 32;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Resolves when `work` settles or `signal` aborts, whichever comes first; never rejects. */
function untilAborted(work: PromiseLike<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      signal?.removeEventListener('abort', done);
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
    work.then(done, done);
  });
}
