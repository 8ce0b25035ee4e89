import { type IncomingMessage, Server as HttpServer, type Server, type ServerResponse, createServer } from 'node:http';
import { type ListenOptions, Server as NetServer } from 'node:net';
import type { NodeAdapterOptions, NodeHttpServer } from '@quiesce/node';
import { type Lifecycle, type LifecycleOptions, createLifecycle } from 'quiesce';
import { ExpressOptionError, ExpressStateError, check } from './errors.ts';
import { type HealthHandler, livenessHandler, readinessHandler } from './health-handlers.ts';
import { resolveOptions } from './internal/options.ts';
import { createServerSetAdapter } from './internal/server-set-adapter.ts';

/**
 * An Express application (`express()`, 4 or 5), seen structurally so that the types of either
 * version fit: a request listener with `use`.
 */
export interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): unknown;
  use: (...args: never[]) => unknown;
}

/**
 * Options for {@link createExpressLifecycle}: the lifecycle's, every setting of the Node adapter
 * each server gets (`idleGraceMs`, `preconnectGraceMs`, `holdMaxMs`, `tcpKeepAliveMs`, `clock` …:
 * `clock` drives the lifecycle and the adapters alike), and `handleSignals`.
 */
export interface ExpressLifecycleOptions extends Omit<LifecycleOptions, 'adapter'>, Omit<NodeAdapterOptions, 'listener'> {
  /**
   * Install the signal policy (SIGTERM / SIGINT / SIGHUP drain and exit; a second signal exits at
   * once) when the first server starts listening. Default `true`; with `false`, call `install()`
   * yourself or drive `shutdown()`.
   */
  handleSignals?: boolean;
}

/** Callback of {@link ExpressAppLifecycle.listen}: called once, with the error if listening failed. */
export type ListenCallback = (error?: Error) => void;

/**
 * The graceful handle of an Express service: the whole {@link Lifecycle} (readiness, hooks,
 * `shutdown()`, `install()`), plus health handlers to mount and the servers it drains.
 */
export interface ExpressLifecycle extends Lifecycle {
  /** The servers this lifecycle drains: the one given, or each one `listen()` created. */
  readonly servers: readonly NodeHttpServer[];
  /** Mount it: `app.get('/readyz', lifecycle.readiness)`: `200 ready`, then `503 shutting down` from the signal on. */
  readonly readiness: HealthHandler;
  /** Mount it: `app.get('/healthz', lifecycle.liveness)`: `200 ok` until the process is about to exit. */
  readonly liveness: HealthHandler;
  install(): ExpressLifecycle;
}

/** The handle created from an app: {@link ExpressLifecycle} plus a `listen()` that wraps before accepting. */
export interface ExpressAppLifecycle extends ExpressLifecycle {
  /**
   * Like `app.listen()`: creates an `http.Server` for the app, wraps it before it can accept a
   * connection, and listens. The callback is called once, on `listening` or with the listen error
   * (Express 5 semantics, on Express 4 too). Throws {@link ExpressStateError} once shutdown began.
   */
  listen(port?: number, hostname?: string, backlog?: number, callback?: ListenCallback): Server;
  listen(port?: number, hostname?: string, callback?: ListenCallback): Server;
  listen(port?: number, callback?: ListenCallback): Server;
  listen(path: string, callback?: ListenCallback): Server;
  listen(options: ListenOptions, callback?: ListenCallback): Server;
  install(): ExpressAppLifecycle;
}

/**
 * Gives an Express service (Express 4 or 5) the whole graceful-shutdown sequence in one line: from
 * a signal on, readiness is false and every response carries `Connection: close` while the
 * listener stays open for `lameDuckMs`; then the listener closes, in-flight requests finish, idle
 * keep-alive sockets close with FIN, the `onShutdown` / `onCleanup` hooks run, and at `deadlineMs`
 * whatever is left is cut (exit code 1). With `handleSignals` (default) the signal policy is
 * installed once a server listens.
 *
 * Give it the `http.Server` that `app.listen()` returned, in the same tick (before it can accept a
 * connection), or give it the app and call the handle's `listen()`, which creates the server and
 * wraps it before it accepts anything. Throws {@link ExpressOptionError} naming the option on bad
 * input.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createExpressLifecycle } from '@quiesce/express';
 *
 * const app = express();
 * const lifecycle = createExpressLifecycle(app, { lameDuckMs: 5_000, deadlineMs: 20_000 });
 * app.get('/readyz', lifecycle.readiness);
 * app.get('/', (req, res) => res.send('hello'));
 * lifecycle.onCleanup('log', () => console.log('bye'));
 * lifecycle.listen(3000); // SIGTERM now drains and exits 0
 * ```
 */
export function createExpressLifecycle(server: NodeHttpServer, options?: ExpressLifecycleOptions): ExpressLifecycle;
export function createExpressLifecycle(app: ExpressApp, options?: ExpressLifecycleOptions): ExpressAppLifecycle;
export function createExpressLifecycle(
  target: ExpressApp | NodeHttpServer,
  options: ExpressLifecycleOptions = {},
): ExpressLifecycle | ExpressAppLifecycle {
  // Bun's node:http Server is an http.Server but no net.Server; Node's https.Server is the reverse.
  const given = target instanceof NetServer || target instanceof HttpServer ? target : undefined;
  const app = typeof target === 'function' ? target : undefined;
  if (!given && !app) {
    throw new ExpressOptionError('appOrServer', target, 'an Express app (express()) or the http.Server that app.listen() returned');
  }
  const config = resolveOptions(options);
  const adapter = createServerSetAdapter('express', config.node);
  let lifecycle: Lifecycle;
  try {
    lifecycle = createLifecycle({ ...config.lifecycle, adapter });
  } catch (error) {
    throw check.adopt(error);
  }

  const onListening = (): void => {
    if (config.handleSignals) lifecycle.install();
  };
  const wrap = (server: NodeHttpServer): void => {
    try {
      adapter.add(server);
    } catch (error) {
      throw check.adopt(error);
    }
    if (server.listening) onListening();
    else server.once('listening', onListening);
  };
  if (given) wrap(given as NodeHttpServer);

  let self: ExpressLifecycle;
  const base: ExpressLifecycle = {
    get state() {
      return lifecycle.state;
    },
    get report() {
      return lifecycle.report;
    },
    get signal() {
      return lifecycle.signal;
    },
    get shutdownKind() {
      return lifecycle.shutdownKind;
    },
    get servers() {
      return adapter.servers;
    },
    readiness: readinessHandler(lifecycle),
    liveness: livenessHandler(lifecycle),
    isReady: () => lifecycle.isReady(),
    isLive: () => lifecycle.isLive(),
    onShutdown: (name, run, hookOptions) => lifecycle.onShutdown(name, run, hookOptions),
    onCleanup: (name, run, hookOptions) => lifecycle.onCleanup(name, run, hookOptions),
    onFlush: (name, run, hookOptions) => lifecycle.onFlush(name, run, hookOptions),
    onDeregister: (name, run, hookOptions) => lifecycle.onDeregister(name, run, hookOptions),
    install() {
      lifecycle.install();
      return self;
    },
    reportReady: () => lifecycle.reportReady(),
    uninstall: () => lifecycle.uninstall(),
    shutdown: (reason) => lifecycle.shutdown(reason),
    forceClose: () => lifecycle.forceClose(),
    useRegistry: (registry) => lifecycle.useRegistry(registry),
  };
  self = base;
  if (!app) return base;

  const listener = app as (req: IncomingMessage, res: ServerResponse) => void;
  const listen = (...args: unknown[]): Server => {
    if (lifecycle.state !== 'serving') {
      throw new ExpressStateError(
        `listen() was called after shutdown began (state "${lifecycle.state}"); a server created now would never be drained. Listen before shutdown starts.`,
      );
    }
    const server = createServer(listener);
    wrap(server);
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as ListenCallback;
      let called = false;
      const once = (error?: Error): void => {
        if (called) return;
        called = true;
        server.off('error', once);
        callback(error);
      };
      args[last] = () => once();
      server.once('error', once);
    }
    return server.listen(...(args as Parameters<Server['listen']>));
  };
  self = Object.assign(base, { listen }) as ExpressAppLifecycle;
  return self as ExpressAppLifecycle;
}
