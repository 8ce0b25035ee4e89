import type { AddressInfo, Server } from 'node:net';
import { AddressInUseError, InheritedSocketError, ListenerOptionError, ReusePortUnsupportedError } from './errors.ts';
import { listenEnvFrom } from './internal/env-options.ts';
import type { InheritedSocket, ListenEnv } from './internal/listen-env.ts';
import { currentRuntime, reusePortSupported } from './internal/runtime.ts';
import { checkBoolean, checkDuration, checkPort, checkString } from './internal/validate.ts';
import { diagnosePort } from './port-diagnosis.ts';
import { reportReady } from './readiness.ts';

/** Options for {@link acquire}. */
export interface AcquireOptions {
  /** Port to bind when no socket is inherited (an inherited socket's address wins); 0 picks a free one. Required unless a socket is inherited. */
  port?: number;
  /** Address to bind. Default: the runtime's (every address). */
  host?: string;
  /** Take the inherited socket with this LISTEN_FDNAMES name. Default: the next one not yet adopted. */
  name?: string;
  /** Adopt inherited sockets (LISTEN_FDS). Default `true`; `false` always binds. */
  inherit?: boolean;
  /**
   * Bind with SO_REUSEPORT so several processes share the port. Node before 22.12 would silently
   * ignore it, so binding there throws {@link ReusePortUnsupportedError}. Ignored for inherited
   * sockets (on any Node), so an app that asks for it still runs under `quiesce run`.
   */
  reusePort?: boolean;
  /** Listen backlog. Default 511. */
  backlog?: number;
  /** On EADDRINUSE, keep retrying for up to this long (a restart waiting for the old process). Default 0. */
  retryUntilFreeMs?: number;
  /** Pause between retries. Default 250. */
  retryIntervalMs?: number;
  /**
   * `auto` (default): report readiness to `quiesce run` or a hot-restart parent once every inherited
   * socket is adopted. `manual`: call {@link reportReady} yourself when the app is ready.
   */
  readiness?: 'auto' | 'manual';
  /** Stops retrying when it aborts (the acquire then rejects with the signal's reason). */
  signal?: AbortSignal;
  /** The environment LISTEN_FDS and friends are read from (and removed). Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where the one-line warning about ignored LISTEN_* variables goes. Default `console.warn`; `false` for silence. */
  warn?: ((line: string) => void) | false;
}

/** What {@link acquire} got. */
export interface AcquiredListener {
  /** `inherited`: adopted from LISTEN_FDS; `bound`: bound here. */
  readonly source: 'inherited' | 'bound';
  /** The inherited fd, or `undefined` when bound. */
  readonly fd: number | undefined;
  /** The inherited socket's name, or `undefined` when bound. */
  readonly name: string | undefined;
  /** The address the socket is bound to. */
  readonly address: string;
  readonly port: number;
  readonly family: string;
  /** `http://address:port`, IPv6 in brackets, for a "listening on" line. */
  readonly url: string;
}

/** A server `acquire` can make listen: a `node:net` Server, so also `node:http` / `node:https` ones. */
export type ListenableServer = Pick<Server, 'listen' | 'once' | 'off' | 'address' | 'listening'>;

const BIND_RETRY_DEFAULT_MS = 250;

/**
 * Makes `server` listen: on a socket inherited by the systemd protocol when there is one (LISTEN_FDS
 * with LISTEN_PID equal to this pid; see {@link inheritedListeners}), otherwise on `host:port`.
 * Adopting goes through `server.listen({ fd })`, which Node and Deno's `node:http` and every
 * `node:net` Server support (on Bun, give it a `node:net` Server and pass its connections to your
 * `http.Server` with `emit('connection', socket)`). An inherited socket is already listening, so no
 * connection is refused while the process starts. Once every inherited socket is adopted, readiness
 * is reported to the starter (`quiesce run`, a hot-restart parent) unless `readiness: 'manual'`:
 * install signal handlers (`lifecycle.install()`) before, since the starter may signal right after.
 *
 * On EADDRINUSE it rejects with {@link AddressInUseError}, whose message names the holder's pid and
 * command line and the TCP states of the port's sockets, after retrying for `retryUntilFreeMs` if
 * given. Binding with `reusePort` on Node before 22.12 rejects with {@link ReusePortUnsupportedError}. Bad options
 * reject with {@link ListenerOptionError}, an inherited socket that cannot be listened on with
 * {@link InheritedSocketError}; other listen errors are passed through.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { AddressInUseError, acquire } from '@quiesce/listener';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * try {
 *   const listener = await acquire(server, { port: 3000, host: '127.0.0.1' });
 *   console.log(`listening on ${listener.url} (${listener.source})`);
 * } catch (error) {
 *   if (error instanceof AddressInUseError) console.error(error.message); // names the holder's pid
 *   process.exit(1);
 * }
 * ```
 */
export async function acquire(server: ListenableServer, options: AcquireOptions = {}): Promise<AcquiredListener> {
  const settings = validate(server, options);
  if (settings.inherit) {
    const state = listenEnvFrom({ env: options.env, warn: options.warn });
    const inherited = pickInherited(state, settings.name);
    if (inherited) {
      state.adopted.add(inherited.fd);
      try {
        await listenOnce(server, { fd: inherited.fd, backlog: settings.backlog });
      } catch (error) {
        state.adopted.delete(inherited.fd);
        throw new InheritedSocketError(inherited.fd, inherited.name, { cause: error });
      }
      // The inherited socket wins over `port` / `host`: the starter decides the address.
      const listener = describeListener(server, 'inherited', inherited);
      await maybeReportReady(state, settings);
      return listener;
    }
  }
  if (settings.port === undefined) {
    throw new ListenerOptionError('port', undefined, 'a port to bind (0 for any free one): no socket was inherited');
  }
  // Checked only when binding: an inherited socket ignores reusePort, so `quiesce run` serves an app
  // that asks for it on any Node.
  if (settings.reusePort && !reusePortSupported()) {
    const runtime = currentRuntime();
    throw new ReusePortUnsupportedError(runtime.name === 'node' ? 'Node' : runtime.name, runtime.version);
  }
  await bind(server, settings);
  const listener = describeListener(server, 'bound', undefined);
  if (settings.inherit) await maybeReportReady(listenEnvFrom({ env: options.env, warn: options.warn }), settings);
  return listener;
}

interface Settings {
  port: number | undefined;
  host: string | undefined;
  name: string | undefined;
  inherit: boolean;
  reusePort: boolean;
  backlog: number;
  retryUntilFreeMs: number;
  retryIntervalMs: number;
  readiness: 'auto' | 'manual';
  signal: AbortSignal | undefined;
  env: Record<string, string | undefined> | undefined;
  warn: (line: string) => void;
}

function validate(server: ListenableServer, options: AcquireOptions): Settings {
  if (!server || typeof server.listen !== 'function' || typeof server.once !== 'function' || typeof server.address !== 'function') {
    throw new ListenerOptionError('server', server, 'a node:net or node:http Server (something with listen(), once() and address())');
  }
  if (server.listening) throw new ListenerOptionError('server', server, 'a server that is not listening yet');
  if (options === null || typeof options !== 'object') throw new ListenerOptionError('options', options, 'an object');
  const {
    port,
    host,
    name,
    inherit = true,
    reusePort = false,
    backlog = 511,
    retryUntilFreeMs = 0,
    retryIntervalMs = BIND_RETRY_DEFAULT_MS,
    readiness = 'auto',
    signal,
    warn = (line: string) => console.warn(line),
  } = options;
  if (port !== undefined) checkPort('port', port);
  if (host !== undefined) {
    checkString('host', host);
    if (/[\s/]/.test(host)) throw new ListenerOptionError('host', host, 'a host name or an IP address');
  }
  if (name !== undefined) {
    checkString('name', name);
    if (name.includes(':')) throw new ListenerOptionError('name', name, 'a LISTEN_FDNAMES name, which cannot contain ":"');
  }
  checkBoolean('inherit', inherit);
  checkBoolean('reusePort', reusePort);
  if (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 1) {
    throw new ListenerOptionError('backlog', backlog, 'a whole number ≥ 1');
  }
  checkDuration('retryUntilFreeMs', retryUntilFreeMs);
  checkDuration('retryIntervalMs', retryIntervalMs);
  if (retryIntervalMs < 1) throw new ListenerOptionError('retryIntervalMs', retryIntervalMs, 'at least 1 ms');
  if (readiness !== 'auto' && readiness !== 'manual') throw new ListenerOptionError('readiness', readiness, '"auto" or "manual"');
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ListenerOptionError('signal', signal, 'an AbortSignal');
  if (warn !== false && typeof warn !== 'function') {
    throw new ListenerOptionError('warn', warn, 'a function that takes one line of text, or false for silence');
  }
  return {
    port,
    host,
    name,
    inherit,
    reusePort,
    backlog,
    retryUntilFreeMs,
    retryIntervalMs,
    readiness,
    signal,
    env: options.env,
    warn: warn === false ? () => {} : warn,
  };
}

function pickInherited(state: ListenEnv, name: string | undefined): InheritedSocket | undefined {
  const free = state.listeners.filter((l) => !state.adopted.has(l.fd));
  if (name === undefined) return free[0];
  const named = free.find((l) => l.name === name);
  if (!named && state.listeners.length > 0) {
    const names = [...new Set(state.listeners.map((l) => l.name))].map((n) => JSON.stringify(n)).join(', ');
    throw new ListenerOptionError('name', name, `the name of an inherited socket not adopted yet (inherited: ${names})`);
  }
  return named;
}

async function maybeReportReady(state: ListenEnv, settings: Settings): Promise<void> {
  if (settings.readiness !== 'auto') return;
  if (state.listeners.every((l) => state.adopted.has(l.fd))) await reportReady({ env: settings.env, warn: false });
}

function listenOnce(server: ListenableServer, how: Record<string, unknown>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    try {
      server.listen(how);
    } catch (error) {
      server.off('error', onError);
      server.off('listening', onListening);
      reject(error);
    }
  });
}

async function bind(server: ListenableServer, settings: Settings): Promise<void> {
  const { port, host, backlog, reusePort, retryUntilFreeMs, retryIntervalMs, signal } = settings;
  const how: Record<string, unknown> = { port, backlog };
  if (host !== undefined) how['host'] = host;
  if (reusePort) how['reusePort'] = true;
  const started = Date.now();
  for (;;) {
    signal?.throwIfAborted();
    try {
      await listenOnce(server, how);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
      const waited = Date.now() - started;
      if (waited + retryIntervalMs > retryUntilFreeMs) {
        const diagnosis = await diagnosePort(port!);
        throw new AddressInUseError(port!, host, diagnosis, retryUntilFreeMs > 0 ? waited : 0, diagnosis.summary, { cause: error });
      }
      await sleep(retryIntervalMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    };
    const aborted = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

function describeListener(server: ListenableServer, source: 'inherited' | 'bound', inherited: InheritedSocket | undefined): AcquiredListener {
  const raw = server.address();
  const info: AddressInfo =
    raw !== null && typeof raw === 'object' ? raw : { address: String(raw ?? ''), port: 0, family: 'unix' };
  const host = info.address.includes(':') ? `[${info.address}]` : info.address;
  return Object.freeze({
    source,
    fd: inherited?.fd,
    name: inherited?.name,
    address: info.address,
    port: info.port,
    family: String(info.family),
    url: `http://${host}:${info.port}`,
  });
}
