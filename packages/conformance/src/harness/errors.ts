// One option error for the whole harness, shared with @quiesce/test-support (the spawn side).
export { HarnessOptionError } from '@quiesce/test-support';

/**
 * The TCP connection could not be opened: nothing was sent, so retrying is always safe.
 * `RefusedFailure` is the common case (nothing listens); this class covers every other connect error.
 *
 * @example
 * ```ts
 * try { await openConnection(port); }
 * catch (e) { if (e instanceof ConnectFailure) console.error(e.errno); }
 * ```
 */
export class ConnectFailure extends Error {
  override readonly name: string = 'ConnectFailure';
  readonly code: string = 'QUIESCE_CONFORMANCE_CONNECT_FAILED';
  /** The system error code, e.g. `ECONNREFUSED`, `ETIMEDOUT` (connect timeout), `EADDRNOTAVAIL`. */
  readonly errno: string;

  constructor(errno: string, host: string, port: number, options?: { cause?: unknown }) {
    super(`Could not connect to ${host}:${port} (${errno}); no request was sent, so a retry is safe.`, options);
    this.errno = errno;
  }
}

/**
 * The connection was refused (`ECONNREFUSED`): nothing listens on the port, as after a listener closed.
 * No request reached any server, so retrying is safe.
 *
 * @example
 * ```ts
 * try { await openConnection(port); }
 * catch (e) { if (e instanceof RefusedFailure) retryLater(); }
 * ```
 */
export class RefusedFailure extends ConnectFailure {
  override readonly name: string = 'RefusedFailure';
  override readonly code: string = 'QUIESCE_CONFORMANCE_REFUSED';

  constructor(host: string, port: number, options?: { cause?: unknown }) {
    super('ECONNREFUSED', host, port, options);
  }
}

/** How a written request ended without a complete response. */
export type AmbiguousKind = 'reset' | 'closed-without-response' | 'timeout';

/**
 * A request was written but no complete response came back: the connection was reset, closed, or went
 * silent. The client cannot know whether the server processed the request, so only idempotent requests
 * may be retried. This is the failure a graceful shutdown exists to prevent.
 *
 * @example
 * ```ts
 * try { await connection.request({ path: '/' }); }
 * catch (e) { if (e instanceof AmbiguousFailure) console.error(e.kind, e.bytesRead); }
 * ```
 */
export class AmbiguousFailure extends Error {
  override readonly name: string = 'AmbiguousFailure';
  readonly code: 'QUIESCE_CONFORMANCE_AMBIGUOUS' = 'QUIESCE_CONFORMANCE_AMBIGUOUS';
  readonly kind: AmbiguousKind;
  /** Bytes of the response that had arrived before the failure (0: nothing at all). */
  readonly partialBytes: number;

  constructor(kind: AmbiguousKind, partialBytes: number, detail: string, options?: { cause?: unknown }) {
    super(
      `A request was sent but no complete response came back (${kind}): ${detail}. ` +
        'The server may or may not have processed it.',
      options,
    );
    this.kind = kind;
    this.partialBytes = partialBytes;
  }
}

/**
 * The server answered with bytes that are not valid HTTP/1.1 (as this harness reads it).
 *
 * @example
 * ```ts
 * try { await connection.request({ path: '/' }); }
 * catch (e) { if (e instanceof ProtocolFailure) console.error(e.message); }
 * ```
 */
export class ProtocolFailure extends Error {
  override readonly name: string = 'ProtocolFailure';
  readonly code: 'QUIESCE_CONFORMANCE_PROTOCOL' = 'QUIESCE_CONFORMANCE_PROTOCOL';

  constructor(detail: string, options?: { cause?: unknown }) {
    super(`The server sent an invalid HTTP/1.1 response: ${detail}.`, options);
  }
}

/**
 * A request was about to be written on a connection that had already ended. Nothing was sent, so
 * retrying on a new connection is safe.
 *
 * @example
 * ```ts
 * try { connection.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); }
 * catch (e) { if (e instanceof ConnectionClosedError) connection = await openConnection(port); }
 * ```
 */
export class ConnectionClosedError extends Error {
  override readonly name: string = 'ConnectionClosedError';
  readonly code: 'QUIESCE_CONFORMANCE_CONNECTION_CLOSED' = 'QUIESCE_CONFORMANCE_CONNECTION_CLOSED';
  /** How the connection had ended: `fin`, `reset`, `local` or `error`. */
  readonly closedBy: string;

  constructor(closedBy: string, options?: { cause?: unknown }) {
    super(`The connection had already ended (${closedBy}) before the request was written; open a new connection.`, options);
    this.closedBy = closedBy;
  }
}

/**
 * A load run lost requests while the load client's own event loop was held up for longer than the
 * limit: the run cannot tell a server fault from a client that could not read what the server
 * sent. The message carries the code, so a test runner can retry on it (the conformance suites'
 * `vitest.config.ts` does, twice); a server fault fails again, a busy box does not.
 *
 * @example
 * ```ts
 * try { assertClientKeptUp(result); }
 * catch (e) { if (e instanceof ClientStalledError) console.error(e.stalledMs, e.lost); }
 * ```
 */
export class ClientStalledError extends Error {
  override readonly name: string = 'ClientStalledError';
  readonly code: 'QUIESCE_CONFORMANCE_CLIENT_STALLED' = 'QUIESCE_CONFORMANCE_CLIENT_STALLED';
  /** The longest stall of the client's event loop during the run, in ms. */
  readonly stalledMs: number;
  /** The limit it passed, in ms. */
  readonly limitMs: number;
  /** The attempts of the run that ended `ambiguous` or `error`. */
  readonly lost: number;

  constructor(stalledMs: number, limitMs: number, lost: number, options?: { cause?: unknown }) {
    super(
      `The load client's own event loop stalled for ${stalledMs} ms (limit ${limitMs} ms) during a run that lost ` +
        `${lost} request(s), so the run cannot tell a server fault from a client that could not read: a connection ` +
        `idle for longer than the server's grace is rightly closed, and the client wakes to send on it. ` +
        'Run it again on a less busy machine (QUIESCE_CONFORMANCE_CLIENT_STALLED).',
      options,
    );
    this.stalledMs = stalledMs;
    this.limitMs = limitMs;
    this.lost = lost;
  }
}
