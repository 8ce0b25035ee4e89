import { ConnectionTracker, type ConnectionTrackerOptions, ResponseGate, type ServerAdapter, withConnectionClose } from '@quiesce/drain';
import { type Clock, systemClock } from '@quiesce/core';
import { inheritedListeners } from '@quiesce/listener';
import type {
  DenoHttpServer,
  DenoNetAddr,
  DenoServeHandler,
  DenoServeHandlerInfo,
  DenoServeOptions,
  DenoServeTcpOptions,
  DenoServeUnixOptions,
  DenoUnixAddr,
} from './deno-types.ts';
import { DenoAdapterOptionError, DenoRuntimeError, DenoUnsupportedOptionError, check } from './errors.ts';
import { denoRuntime } from './internal/deno-runtime.ts';
import { serveInherited } from './internal/serve-inherited.ts';
import { listenerClosed } from './internal/listener-closed.ts';

/** Options for {@link serveDeno}'s graceful shutdown. */
export interface DenoAdapterOptions extends Omit<ConnectionTrackerOptions, 'onForce'> {
  /**
   * Deno's `shutdown()` closes every idle keep-alive socket together with the listener, so
   * `stopAccepting()` first holds finished responses until no request has started and no response gone out for this long (about 1 ms when already that quiet: quiet is confirmed at a second look, after the runtime polled its sockets):
   * every socket Deno then closes has been idle at least this long, and every busy client gets its
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
   * `quiesce run` or systemd socket activation) instead of binding `port`. `Deno.serve` cannot adopt
   * a socket, so the adapter then serves the handler through Deno's `node:http` (see
   * {@link DenoAdapter.inherited}) and says so on `warn`. `false` always binds with `Deno.serve`.
   * Default true.
   */
  inherit?: boolean;
  /** Where that one notice line goes. Default `console.warn`; `false` for silence. */
  warn?: ((line: string) => void) | false;
}

/** The inherited socket a {@link DenoAdapter} serves through `node:http`, when it does. */
export interface DenoInheritedSocket {
  /** Its file descriptor (3 for the first). */
  readonly fd: number;
  /** Its name from LISTEN_FDNAMES, else `unknown`. */
  readonly name: string;
  /** Resolves with the address once `node:http` listens on it (`onListen` is called then too). */
  readonly listening: Promise<DenoNetAddr>;
}

/** The Deno adapter: a {@link ServerAdapter} for one `Deno.serve` server, and the server. */
export interface DenoAdapter<Addr = DenoNetAddr> extends ServerAdapter {
  /** The running Deno server (`Deno.serve`'s return value); undefined when serving an {@link inherited} socket. */
  readonly server: DenoHttpServer<Addr> | undefined;
  /** Set when the adapter serves a socket inherited by the systemd protocol through `node:http`. */
  readonly inherited: DenoInheritedSocket | undefined;
  /**
   * Closes every connection now by aborting the server's signal; what the tracker calls at the deadline.
   * After `shutdown()` Deno offers no way to do that, so it only stops holding responses. Idempotent.
   */
  forceClose(): void;
}

/**
 * Starts `Deno.serve(options)` with graceful shutdown built in, and returns its {@link ServerAdapter}
 * for `createLifecycle`. From `tracker.beginShutdown()` on, every response carries
 * `Connection: close` (Deno sends the header but keeps the socket open; clients close it).
 * `stopAccepting()` holds responses until requests stop arriving for `idleGraceMs` (at most
 * `holdMaxMs`), calls `server.shutdown()`, waits until a connect to the server's own address is
 * refused, then lets the held responses go: no client is then caught between two requests on a
 * socket Deno closes, nor reconnecting into a listener that is closing. A request stays in flight
 * until Deno reports its response delivered (`info.completed`), streamed bodies included, and the
 * drain also waits for `server.finished` (not counted as a request in the report). At
 * the deadline, before `shutdown()`, the server's abort signal cuts what is left; after it Deno
 * offers no way to cut connections, so the process exit that follows the deadline does.
 *
 * Under `quiesce run` or systemd socket activation (a valid `LISTEN_FDS` for this pid), the
 * adapter serves the first inherited socket instead of binding `port`: `Deno.serve` cannot adopt a
 * socket, so the handler then runs on Deno's `node:http` (see {@link DenoAdapter.inherited}), with
 * the same drain; one line on `warn` says so. `inherit: false` turns this off.
 *
 * Throws {@link DenoAdapterOptionError} on a bad option, {@link DenoUnsupportedOptionError} for
 * `fd` (which `Deno.serve` ignores), for `reusePort` without `--unstable-net` (Deno would exit
 * with code 70), and for TLS (`cert`/`key`) or `path` with an inherited socket;
 * {@link DenoRuntimeError} outside Deno.
 *
 * @example
 * ```ts
 * import { createLifecycle } from 'quiesce';
 * import { serveDeno } from '@quiesce/deno';
 *
 * const adapter = serveDeno({ port: 8000, hostname: '127.0.0.1', handler: () => new Response('ok\n') });
 * createLifecycle({ adapter }).install(); // SIGTERM now drains and exits 0
 * ```
 */
export function serveDeno(options: DenoServeTcpOptions, adapterOptions?: DenoAdapterOptions): DenoAdapter<DenoNetAddr>;
export function serveDeno(options: DenoServeUnixOptions, adapterOptions?: DenoAdapterOptions): DenoAdapter<DenoUnixAddr>;
export function serveDeno(options: DenoServeOptions, adapterOptions: DenoAdapterOptions = {}): DenoAdapter<DenoNetAddr | DenoUnixAddr> {
  check.object('options', options, 'the options object of Deno.serve, with a handler');
  const given = options as unknown as Record<string, unknown>;
  if (given['fd'] !== undefined) {
    throw new DenoUnsupportedOptionError(
      'fd',
      given['fd'],
      'Deno.serve cannot adopt a socket: it ignores fd and binds a port (8000 by default) instead. Pass port and hostname, or path for a unix socket.',
    );
  }
  const handler = given['handler'];
  check.function('handler', handler, 'a function (request, info) => Response');
  const onError = given['onError'];
  if (onError !== undefined) check.function('onError', onError, 'a function (error) => Response');
  const userSignal = given['signal'];
  if (userSignal !== undefined) check.signal('signal', userSignal);

  check.object('adapterOptions', adapterOptions);
  const { idleGraceMs = 250, holdMaxMs = 1_000, tracker: givenTracker, inherit = true, warn = console.warn, ...trackerOptions } = adapterOptions;
  check.duration('idleGraceMs', idleGraceMs);
  check.duration('holdMaxMs', holdMaxMs);
  if (givenTracker !== undefined && !(givenTracker instanceof ConnectionTracker)) {
    throw new DenoAdapterOptionError('tracker', givenTracker, 'a ConnectionTracker from @quiesce/drain');
  }
  check.boolean('inherit', inherit);
  check.log('warn', warn);
  const socket = inherit ? inheritedListeners({ warn })[0] : undefined;
  if (socket) {
    for (const option of ['cert', 'key', 'path'] as const) {
      if (given[option] === undefined) continue;
      throw new DenoUnsupportedOptionError(
        option,
        given[option],
        `This process inherited a listening TCP socket (fd ${socket.fd}), which Deno.serve cannot adopt, so the adapter serves the handler through node:http, ${option === 'path' ? 'on that socket, not on a unix socket' : 'without TLS here (terminate TLS in front of the process)'}. Or pass { inherit: false } to bind with Deno.serve.`,
      );
    }
    if (denoRuntime() === undefined) throw new DenoRuntimeError();
    if (warn) {
      warn(`quiesce: Deno.serve cannot adopt the inherited socket (fd ${socket.fd}, ${socket.name}); serving it through node:http instead`);
    }
    const served = serveInherited(socket, handler as DenoServeHandler, onError as ((error: unknown) => Response | Promise<Response>) | undefined, {
      idleGraceMs,
      holdMaxMs,
      ...(givenTracker ? { tracker: givenTracker } : {}),
      ...trackerOptions,
    });
    const onListen = given['onListen'];
    if (typeof onListen === 'function') void served.listening.then((address) => (onListen as (address: DenoNetAddr) => void)(address), () => {});
    let forced = false;
    const cut = (): void => {
      if (forced) return;
      forced = true;
      served.adapter.tracker.forceClose();
    };
    if (userSignal instanceof AbortSignal) {
      if (userSignal.aborted) cut();
      else userSignal.addEventListener('abort', cut, { once: true });
    }
    return {
      name: 'deno',
      server: undefined,
      inherited: { fd: socket.fd, name: socket.name, listening: served.listening },
      tracker: served.adapter.tracker,
      forceClose: cut,
      stopAccepting: (stopOptions) => served.adapter.stopAccepting(stopOptions),
      dispose(): void {
        served.adapter.dispose();
        if (userSignal instanceof AbortSignal) userSignal.removeEventListener('abort', cut);
      },
    };
  }
  const clock: Clock = trackerOptions.clock ?? systemClock;

  const abort = new AbortController();
  let forced = false;
  let disposed = false;
  let shutDown = false;
  const forceClose = (): void => {
    if (forced) return;
    forced = true;
    gate.release();
    // shutdown() takes the server's resource: aborting after it makes Deno's own abort listener
    // throw an uncaught BadResource (the process dies with code 1) and cuts nothing. From then on
    // only the process exit, which the lifecycle performs right after the deadline, can cut.
    if (!shutDown) abort.abort(new Error('quiesce: forced stop'));
  };
  const tracker = givenTracker ?? new ConnectionTracker({ idleGraceMs, ...trackerOptions, onForce: forceClose });
  const gate = new ResponseGate(clock);

  const deno = denoRuntime();
  if (!deno) throw new DenoRuntimeError();
  if (given['reusePort'] === true && typeof deno.listenDatagram !== 'function') {
    throw new DenoUnsupportedOptionError(
      'reusePort',
      true,
      'Deno.serve({ reusePort: true }) needs --unstable-net (or "unstable": ["net"] in deno.json); without it Deno prints a warning and exits the whole process with code 70. Add the flag, or leave reusePort out.',
    );
  }

  const finalize = (response: Response): Response => {
    gate.departed();
    return tracker.closing ? withConnectionClose(response) : response;
  };
  const respond = (result: unknown): unknown => {
    // Anything but a Response is Deno's to reject, as it would without the adapter.
    if (!(result instanceof Response)) return result;
    const held = gate.held;
    return held ? held.then(() => finalize(result)) : finalize(result);
  };
  // Errors are answered here rather than by Deno, so that the error page is held and closes too.
  const fail = (error: unknown): unknown => {
    if (typeof onError === 'function') return settle((onError as (error: unknown) => unknown)(error), respond);
    console.error(error);
    return respond(new Response('Internal Server Error', { status: 500 }));
  };
  const endRequest = (): void => tracker.endRequest();
  /** The request ends once Deno reports its response delivered or abandoned (Deno ≥ 2.0), else now. */
  const endOnCompletion = (info: DenoServeHandlerInfo<unknown> | undefined): boolean => {
    const completed = (info as Partial<DenoServeHandlerInfo<unknown>> | undefined)?.completed;
    if (!completed) return false;
    completed.then(endRequest, endRequest);
    return true;
  };
  /** While serving the request ends now; from shutdown on, once Deno has delivered its response. */
  const answered = (info: DenoServeHandlerInfo<unknown> | undefined): void => {
    if (!tracker.closing || !endOnCompletion(info)) tracker.endRequest();
  };
  const wrapped = (request: Request, info: DenoServeHandlerInfo<unknown>): unknown => {
    if (disposed) return (handler as (request: Request, info: unknown) => unknown)(request, info);
    gate.arrived();
    tracker.beginRequest();
    let result: unknown;
    try {
      result = (handler as (request: Request, info: unknown) => unknown)(request, info);
    } catch (error) {
      return endWith(info, fail(error));
    }
    if (result instanceof Response && gate.held === undefined) {
      // Answered at once, nothing held: no allocation of ours. While serving, the request ends as
      // its response is handed over (at shutdown the drain also waits for server.finished, which
      // covers a body still being sent); from shutdown on, when Deno has delivered it.
      answered(info);
      return finalize(result);
    }
    if (tracker.closing) return endWith(info, settle(result, respond, fail));
    // While serving, one callback instead of a second promise chain on info.completed: the request
    // ends when its answer is ready, or when Deno has delivered it if shutdown began meanwhile.
    return settle(
      result,
      (value: unknown): unknown => {
        answered(info);
        return respond(value);
      },
      (error: unknown): unknown => {
        answered(info);
        return fail(error);
      },
    );
  };
  /**
   * Ends the request once Deno has delivered or abandoned the response, streamed body included,
   * also when the client leaves while the handler still works; without `info.completed`, once the
   * `answer` is handed over.
   */
  const endWith = (info: DenoServeHandlerInfo<unknown> | undefined, answer: unknown): unknown => {
    if (endOnCompletion(info)) return answer;
    return settle(answer, (value: unknown): unknown => {
      tracker.endRequest();
      return value;
    });
  };

  const onAbort = (): void => forceClose();
  if (userSignal instanceof AbortSignal) {
    if (userSignal.aborted) forceClose();
    else userSignal.addEventListener('abort', onAbort, { once: true });
  }
  const server = deno.serve({ ...given, handler: wrapped, signal: abort.signal });

  let stopping: Promise<void> | undefined;
  return {
    name: 'deno',
    server,
    inherited: undefined,
    tracker,
    forceClose,
    stopAccepting(): Promise<void> {
      stopping ??= (async () => {
        if (!forced && holdMaxMs > 0) await gate.hold(idleGraceMs, holdMaxMs);
        if (!forced) {
          shutDown = true;
          // Never awaited here: it resolves only once every held request is done.
          server.shutdown().catch(() => {});
          // info.completed settles as soon as a string body is handed over, before it is sent
          // (measured: at once, for a 32 MB body to a paused reader); server.finished waits for
          // every connection. The drain waits for it too.
          tracker.waitFor(server.finished);
          await listenerClosed(deno, server.addr, clock, 1_000);
        }
        gate.release();
      })();
      return stopping;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      gate.release();
      if (userSignal instanceof AbortSignal) userSignal.removeEventListener('abort', onAbort);
    },
  };
}

/** Calls `next` with `value`, or with what it resolves to; `fail` for a rejection. */
function settle(value: unknown, next: (value: unknown) => unknown, fail?: (error: unknown) => unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function') {
    return Promise.resolve(value as PromiseLike<unknown>).then(next, fail);
  }
  return next(value);
}
