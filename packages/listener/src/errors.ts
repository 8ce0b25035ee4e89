import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';
import type { PortDiagnosis } from './port-diagnosis.ts';

/**
 * A public option was given a value it cannot take. The message names the option and the value.
 * Extends `InvalidOptionError` from `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { await acquire(server, { port: 70_000 }); }
 * catch (e) { if (e instanceof ListenerOptionError) console.error(e.option, e.code); } // "port"
 * ```
 */
export class ListenerOptionError extends InvalidOptionError {
  override readonly name: string = 'ListenerOptionError';
  override readonly code: 'QUIESCE_LISTENER_INVALID_OPTION' = 'QUIESCE_LISTENER_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link ListenerOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(ListenerOptionError);

/**
 * The port is taken (EADDRINUSE). The message says who holds it (pid and command line), in which
 * TCP states its sockets are, and what to do; {@link AddressInUseError.diagnosis} has the details.
 *
 * @example
 * ```ts
 * try { await acquire(server, { port: 3000 }); }
 * catch (e) {
 *   if (e instanceof AddressInUseError) { console.error(e.message); process.exit(1); }
 *   throw e;
 * }
 * ```
 */
export class AddressInUseError extends Error {
  override readonly name: string = 'AddressInUseError';
  readonly code: 'QUIESCE_ADDR_IN_USE' = 'QUIESCE_ADDR_IN_USE';
  readonly port: number;
  /** The host the bind asked for; `undefined` for every address. */
  readonly host: string | undefined;
  /** What /proc showed when the bind failed (`supported: false` off Linux). */
  readonly diagnosis: PortDiagnosis;
  /** How long the bind was retried before giving up (0 without `retryUntilFreeMs`). */
  readonly waitedMs: number;

  constructor(
    port: number,
    host: string | undefined,
    diagnosis: PortDiagnosis,
    waitedMs: number,
    summary: string,
    options?: { cause?: unknown },
  ) {
    const where = host === undefined ? `port ${port}` : `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const waited = waitedMs > 0 ? ` (still taken after retrying for ${waitedMs} ms)` : '';
    super(`Cannot listen on ${where}: address already in use${waited}. ${summary}`, options);
    this.port = port;
    this.host = host;
    this.diagnosis = diagnosis;
    this.waitedMs = waitedMs;
  }
}

/**
 * `reusePort: true` was asked on a runtime that would silently ignore it (Node before 22.12, where
 * a second process then fails with EADDRINUSE instead of sharing the port).
 *
 * @example
 * ```ts
 * try { await acquire(server, { port: 3000, reusePort: true }); }
 * catch (e) { if (e instanceof ReusePortUnsupportedError) console.error(e.runtime, e.version); }
 * ```
 */
export class ReusePortUnsupportedError extends Error {
  override readonly name: string = 'ReusePortUnsupportedError';
  readonly code: 'QUIESCE_REUSEPORT_UNSUPPORTED' = 'QUIESCE_REUSEPORT_UNSUPPORTED';
  readonly runtime: string;
  readonly version: string;

  constructor(runtime: string, version: string, options?: { cause?: unknown }) {
    super(
      `reusePort is not supported on ${runtime} ${version}: it would be silently ignored and a second process would fail with EADDRINUSE. Upgrade to Node ≥ 22.12 (or use Bun or Deno), or share one socket instead: run under \`quiesce run\` or systemd socket activation.`,
      options,
    );
    this.runtime = runtime;
    this.version = version;
  }
}

/**
 * A hot restart cannot be done here: the runtime does not expose the listening socket's file
 * descriptor (Bun, Deno), or a server is not listening.
 *
 * @example
 * ```ts
 * hotRestart({ servers: server, stop }).catch((e) => {
 *   if (e instanceof HotRestartError) console.error(e.message); // use `quiesce run` instead
 * });
 * ```
 */
export class HotRestartError extends Error {
  override readonly name: string = 'HotRestartError';
  readonly code: 'QUIESCE_HOT_RESTART_UNSUPPORTED' = 'QUIESCE_HOT_RESTART_UNSUPPORTED';
}

/**
 * The supervisor could not start: its sockets could not be bound or held.
 *
 * @example
 * ```ts
 * try { await runSupervisor({ listen: ['127.0.0.1:8080'], command: ['node', 'server.js'] }); }
 * catch (e) { if (e instanceof SupervisorError) console.error(e.message); }
 * ```
 */
export class SupervisorError extends Error {
  override readonly name: string = 'SupervisorError';
  readonly code: 'QUIESCE_SUPERVISOR_FAILED' = 'QUIESCE_SUPERVISOR_FAILED';
}

/**
 * An inherited socket (LISTEN_FDS) could not be listened on: the server cannot take an fd (Bun's
 * `node:http`; use a `node:net` Server there), or the fd is not a stream socket.
 *
 * @example
 * ```ts
 * try { await acquire(server); }
 * catch (e) { if (e instanceof InheritedSocketError) console.error(e.fd, e.socketName, e.message); }
 * ```
 */
export class InheritedSocketError extends Error {
  override readonly name: string = 'InheritedSocketError';
  readonly code: 'QUIESCE_INHERITED_SOCKET_FAILED' = 'QUIESCE_INHERITED_SOCKET_FAILED';
  readonly fd: number;
  /** The LISTEN_FDNAMES name of the socket. */
  readonly socketName: string;

  constructor(fd: number, socketName: string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? options.cause.message : String(options?.cause);
    super(
      `Cannot listen on the inherited socket fd ${fd} ("${socketName}"): ${why}. Pass a node:net Server (on Bun, hand its connections to your http.Server with emit('connection', socket)), or check what the starter passed as fd ${fd}.`,
      options,
    );
    this.fd = fd;
    this.socketName = socketName;
  }
}
