import { type FetchAdapterOptions, type ServerAdapter, createFetchAdapter } from '@quiesce/drain';
import { systemClock } from '@quiesce/core';
import { type InheritedListener, inheritedListeners } from '@quiesce/listener';
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
import { listenerClosed } from './internal/listener-closed.ts';
import { serveInherited } from './internal/serve-inherited.ts';
import { dispatchTo } from './upgrade-websocket.ts';

/** Options for {@link serveDeno}'s graceful shutdown: the drain's (`preconnectGraceMs`, `clock` …) and these. */
export interface DenoAdapterOptions extends Omit<FetchAdapterOptions, 'onError'> {
  /**
   * Deno's `shutdown()` closes every idle keep-alive socket together with the listener, so
   * `stopAccepting()` first holds finished responses until no request has started and no response
   * gone out for this long (about 1 ms when already that quiet: quiet is confirmed at a second look,
   * after the runtime polled its sockets): every socket Deno then closes has been idle at least this
   * long, and every busy client gets its answer (with `Connection: close`) once the listener is
   * closed. It is the drain's idle grace too. Default 250.
   */
  idleGraceMs?: number;
  /** Upper bound for that hold when requests keep arriving; the deadline ends it at once. `0` never holds. Default 1000. */
  holdMaxMs?: number;
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
}

/**
 * Starts `Deno.serve(options)` with graceful shutdown built in, and returns its {@link ServerAdapter}
 * for `createLifecycle`: a thin mapping of Deno's primitives (`shutdown()`, `info.completed`,
 * `server.finished`, the serve `signal`) onto `@quiesce/drain`'s fetch adapter. From
 * `beginShutdown()` on, every response carries `Connection: close` (Deno sends the header but keeps
 * the socket open; clients close it). `stopAccepting()` holds responses until requests stop
 * arriving for `idleGraceMs` (at most `holdMaxMs`, and no longer than the deadline), calls
 * `server.shutdown()`, waits until a connect to the server's own address is refused (not past the
 * deadline), then lets the held responses go: no client is then caught between two requests on a
 * socket Deno closes, nor reconnecting into a listener that is closing. A request stays in flight
 * until Deno reports its response delivered (`info.completed`), streamed bodies included, and the
 * drain also waits for `server.finished` (not counted as a request in the report). At the deadline,
 * before `shutdown()`, the server's abort signal cuts what is left; after it Deno offers no way to
 * cut connections, so the process exit that follows the deadline does.
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
  const { idleGraceMs = 250, holdMaxMs = 1_000, inherit = true, warn = console.warn, ...drainOptions } = adapterOptions;
  check.duration('idleGraceMs', idleGraceMs);
  check.duration('holdMaxMs', holdMaxMs);
  if ('tracker' in drainOptions) {
    const tracker = (drainOptions as { tracker?: unknown }).tracker;
    throw new DenoAdapterOptionError('tracker', tracker, 'no tracker: the adapter owns its own; pass its options (idleGraceMs, clock …) instead');
  }
  check.boolean('inherit', inherit);
  check.log('warn', warn);
  const socket = inherit ? inheritedListeners({ warn })[0] : undefined;
  const settings = { ...drainOptions, idleGraceMs, holdMaxMs };
  const started = socket ? serveOnInheritedSocket(socket, given, settings, warn) : serveWithDeno(given, settings);
  // The serve signal stops the server at once, as it does Deno.serve's.
  const cut = (): void => void started.forceClose();
  if (userSignal instanceof AbortSignal) {
    if (userSignal.aborted) cut();
    else userSignal.addEventListener('abort', cut, { once: true });
  }
  return {
    ...started,
    dispose(): void {
      started.dispose();
      if (userSignal instanceof AbortSignal) userSignal.removeEventListener('abort', cut);
    },
  };
}

type AdapterSettings = Omit<DenoAdapterOptions, 'inherit' | 'warn'>;

/** `Deno.serve` itself, its primitives mapped onto the fetch adapter. */
function serveWithDeno(given: Record<string, unknown>, settings: AdapterSettings): DenoAdapter<DenoNetAddr | DenoUnixAddr> {
  const { handler, onError } = given;
  const deno = denoRuntime();
  const abort = new AbortController();
  let server: DenoHttpServer<DenoNetAddr | DenoUnixAddr> | undefined;
  /** From `shutdown()` on the server's abort signal must not fire (see forceClose). */
  let shutDown = false;
  const served = createFetchAdapter<DenoServeHandlerInfo<unknown> | undefined>(
    {
      name: 'deno',
      closeListener: () => {
        if (!server || !deno) return undefined;
        shutDown = true;
        // Never awaited: it resolves only once every held request is done.
        server.shutdown().catch(() => {});
        return listenerClosed(deno, server.addr, settings.clock ?? systemClock, 1_000);
      },
      // info.completed settles as soon as a string body is handed over, before it is sent
      // (measured: at once, for a 32 MB body to a paused reader); server.finished waits for every
      // connection.
      finished: () => server?.finished ?? Promise.resolve(),
      forceClose: () => {
        // shutdown() takes the server's resource: aborting after it makes Deno's own abort listener
        // throw an uncaught BadResource (the process dies with code 1) and cuts nothing. From then
        // on only the process exit, which the lifecycle performs right after the deadline, can cut.
        if (!shutDown) abort.abort(new Error('quiesce: forced stop'));
      },
      // Deno ≥ 2.0 reports each response delivered or abandoned.
      delivery: { completed: (info) => (info as Partial<DenoServeHandlerInfo<unknown>> | undefined)?.completed },
      // Errors are answered here rather than by Deno, so that the error page is held and closes too.
      fallbackError: (error) => {
        console.error(error);
        return new Response('Internal Server Error', { status: 500 });
      },
    },
    { ...settings, onError: typeof onError === 'function' ? (error) => (onError as (error: unknown) => unknown)(error) : undefined },
  );
  // After the drain options are checked (by the fetch adapter), so that their errors show on any runtime.
  if (!deno) throw new DenoRuntimeError();
  if (given['reusePort'] === true && typeof deno.listenDatagram !== 'function') {
    throw new DenoUnsupportedOptionError(
      'reusePort',
      true,
      'Deno.serve({ reusePort: true }) needs --unstable-net (or "unstable": ["net"] in deno.json); without it Deno prints a warning and exits the whole process with code 70. Add the flag, or leave reusePort out.',
    );
  }
  // upgradeWebSocket() called by the handler tracks its socket with this adapter.
  const dispatch = dispatchTo(served, handler as never);
  server = deno.serve({ ...given, handler: served.wrap(dispatch.handler), signal: abort.signal });
  void server.finished.then(dispatch.stop, dispatch.stop);
  return {
    ...served.adapter,
    server,
    inherited: undefined,
    dispose(): void {
      served.adapter.dispose();
      dispatch.stop();
    },
  };
}

/** An inherited socket, which `Deno.serve` cannot adopt: the handler on `node:http` with the Node adapter. */
function serveOnInheritedSocket(
  socket: InheritedListener,
  given: Record<string, unknown>,
  settings: AdapterSettings,
  warn: ((line: string) => void) | false,
): DenoAdapter<DenoNetAddr> {
  for (const option of ['cert', 'key', 'path'] as const) {
    if (given[option] === undefined) continue;
    throw new DenoUnsupportedOptionError(
      option,
      given[option],
      `This process inherited a listening TCP socket (fd ${socket.fd}), which Deno.serve cannot adopt, so the adapter serves the handler through node:http, ${option === 'path' ? 'on that socket, not on a unix socket' : 'without TLS here (terminate TLS in front of the process)'}. Or pass { inherit: false } to bind with Deno.serve.`,
    );
  }
  if (denoRuntime() === undefined) throw new DenoRuntimeError();
  if (warn) warn(`quiesce: Deno.serve cannot adopt the inherited socket (fd ${socket.fd}, ${socket.name}); serving it through node:http instead`);
  const onError = given['onError'] as ((error: unknown) => Response | Promise<Response>) | undefined;
  // upgradeWebSocket() says why it cannot work here, instead of Deno answering 101 on a dead socket.
  const handler = dispatchTo('inherited', given['handler'] as DenoServeHandler).handler;
  const served = serveInherited(socket, handler, onError, settings);
  const onListen = given['onListen'];
  if (typeof onListen === 'function') void served.listening.then((address) => (onListen as (address: DenoNetAddr) => void)(address), () => {});
  return {
    ...served.adapter,
    name: 'deno',
    server: undefined,
    inherited: { fd: socket.fd, name: socket.name, listening: served.listening },
  };
}
