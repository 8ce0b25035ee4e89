import { connect, type Socket } from 'node:net';
import {
  AmbiguousFailure,
  ConnectFailure,
  ConnectionClosedError,
  HarnessOptionError,
  RefusedFailure,
} from './errors.ts';
import { parseResponse } from './internal/parse-response.ts';
import { checkDuration, checkPort, checkString } from '@quiesce/test-support';

/** One HTTP/1.x response read off a raw connection. */
export interface RawResponse {
  /** `1.1` or `1.0`. */
  readonly httpVersion: string;
  readonly status: number;
  readonly statusText: string;
  /** Header names lowercased; a repeated header's values are joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Headers as sent, in order, names in their original case. */
  readonly rawHeaders: readonly (readonly [string, string])[];
  /** The body decoded as UTF-8 (chunked framing removed). */
  readonly body: string;
  /** The body's length in bytes. */
  readonly bodyBytes: number;
  /** The body came with `Transfer-Encoding: chunked`. */
  readonly chunked: boolean;
  /** The response carries `Connection: close`. */
  readonly connectionClose: boolean;
  /** The server may keep the connection open: HTTP/1.1, no `Connection: close`, body not delimited by close. */
  readonly keepAlive: boolean;
}

/** Options for {@link RawConnection.request}. */
export interface RawRequestOptions {
  /** Default `GET`. */
  method?: string;
  /** Request target; default `/`. */
  path?: string;
  /** Extra headers. `Host` is added unless given; `Content-Length` is added when there is a body. */
  headers?: Readonly<Record<string, string>>;
  /** Request body, sent as UTF-8. */
  body?: string;
  /**
   * Give up after this many ms without a complete response: an {@link AmbiguousFailure} of kind
   * `timeout`, and the connection is destroyed. Default 10 000.
   */
  timeoutMs?: number;
}

/** Options for {@link RawConnection.readResponse}. */
export interface ReadResponseOptions {
  /** The method of the request this answers; `HEAD` responses have no body. Default `GET`. */
  method?: string;
  /** As in {@link RawRequestOptions.timeoutMs}. Default 10 000. */
  timeoutMs?: number;
}

/**
 * Who ended the connection, as first observed: `fin` the server closed cleanly (end of stream),
 * `reset` the server reset it (`ECONNRESET`/`EPIPE`), `local` this side destroyed it,
 * `error` any other socket error (see {@link RawConnection.lastError}).
 */
export type ClosedBy = 'fin' | 'reset' | 'local' | 'error';

/** Options for {@link openConnection}. */
export interface OpenConnectionOptions {
  /** Give up connecting after this many ms (a {@link ConnectFailure} with errno `ETIMEDOUT`). Default 5 000. */
  timeoutMs?: number;
}

/**
 * One TCP connection speaking HTTP/1.1 by hand, so that a test sees exactly what the server sends
 * and how it closes: FIN or RST. Responses are read in order; reads may be queued (pipelining).
 */
export interface RawConnection {
  readonly host: string;
  readonly port: number;
  /** This side's port, to tell connections apart in logs. */
  readonly localPort: number;
  /** How the connection ended, first cause; `null` while it is open. */
  readonly closedBy: ClosedBy | null;
  /** The server's FIN arrived (possibly followed by a reset). */
  readonly finReceived: boolean;
  /** A reset arrived (possibly after a FIN). */
  readonly resetReceived: boolean;
  /** The socket is fully closed (`close` event seen). */
  readonly closed: boolean;
  /** The last socket error, if any. */
  readonly lastError: Error | undefined;
  /** Bytes received so far. */
  readonly bytesRead: number;
  /** Bytes handed to the socket so far. */
  readonly bytesWritten: number;
  /** Complete responses read so far. */
  readonly responsesRead: number;
  /**
   * Writes raw bytes. Throws {@link ConnectionClosedError} if the connection already ended (nothing
   * is written then, so a retry on a new connection is safe).
   */
  send(data: string | Uint8Array): void;
  /**
   * Writes one request and reads its response. Rejects with {@link AmbiguousFailure} when the
   * connection resets, closes or stays silent before the response is complete, with
   * {@link ConnectionClosedError} when the connection had ended before anything was written, and
   * with `ProtocolFailure` on malformed bytes.
   */
  request(options?: RawRequestOptions): Promise<RawResponse>;
  /** Reads the next response (after {@link RawConnection.send}); fails as {@link RawConnection.request} does. */
  readResponse(options?: ReadResponseOptions): Promise<RawResponse>;
  /**
   * Resolves once the socket is fully closed, with {@link RawConnection.closedBy}, or with `timeout`
   * if it is still open after `timeoutMs` (default 5 000). Never rejects.
   */
  waitForClose(timeoutMs?: number): Promise<ClosedBy | 'timeout'>;
  /** Sends this side's FIN; the server may still answer. */
  end(): void;
  /** Closes this side at once (FIN from the kernel, or RST if unread data remains). Idempotent. */
  destroy(): void;
  /** Closes this side with a RST. Idempotent. */
  reset(): void;
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

class Connection implements RawConnection {
  readonly host: string;
  readonly port: number;
  readonly localPort: number;
  closedBy: ClosedBy | null = null;
  finReceived = false;
  resetReceived = false;
  closed = false;
  lastError: Error | undefined;
  bytesRead = 0;
  bytesWritten = 0;
  responsesRead = 0;
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #readQueue: Promise<unknown> = Promise.resolve();
  readonly #wakers = new Set<() => void>();

  constructor(socket: Socket, host: string, port: number) {
    this.#socket = socket;
    this.host = host;
    this.port = port;
    this.localPort = socket.localPort ?? 0;
    socket.on('data', (chunk: Buffer) => {
      this.bytesRead += chunk.length;
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('end', () => {
      this.finReceived = true;
      this.closedBy ??= 'fin';
      this.#wake();
    });
    socket.on('error', (error: Error) => {
      this.lastError = error;
      if (RESET_CODES.has(errnoOf(error))) {
        this.resetReceived = true;
        this.closedBy ??= 'reset';
      } else {
        this.closedBy ??= 'error';
      }
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.closedBy ??= 'local';
      this.#wake();
    });
  }

  send(data: string | Uint8Array): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new HarnessOptionError('data', data, 'a string or Uint8Array');
    }
    if (this.closedBy !== null || this.#socket.destroyed || this.#socket.writableEnded) {
      throw new ConnectionClosedError(this.closedBy ?? 'local');
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.bytesWritten += bytes.length;
    this.#socket.write(bytes);
  }

  request(options: RawRequestOptions = {}): Promise<RawResponse> {
    if (options === null || typeof options !== 'object') {
      return Promise.reject(new HarnessOptionError('options', options, 'an object'));
    }
    const { method = 'GET', path = '/', headers = {}, body, timeoutMs } = options;
    try {
      checkString('method', method);
      checkString('path', path);
      if (headers === null || typeof headers !== 'object') {
        throw new HarnessOptionError('headers', headers, 'an object of header values');
      }
      if (body !== undefined && typeof body !== 'string') throw new HarnessOptionError('body', body, 'a string');
      const lines = [`${method} ${path} HTTP/1.1`];
      const names = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
      if (!names.has('host')) lines.push(`Host: ${this.host}:${this.port}`);
      if (body !== undefined && !names.has('content-length') && !names.has('transfer-encoding')) {
        lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
      }
      for (const [name, value] of Object.entries(headers)) {
        if (typeof value !== 'string') throw new HarnessOptionError(`headers.${name}`, value, 'a string');
        lines.push(`${name}: ${value}`);
      }
      this.send(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.readResponse({ method, timeoutMs: timeoutMs ?? 10_000 });
  }

  readResponse(options: ReadResponseOptions = {}): Promise<RawResponse> {
    const method = options.method ?? 'GET';
    const timeoutMs = options.timeoutMs ?? 10_000;
    try {
      checkString('method', method);
      checkDuration('timeoutMs', timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const read = this.#readQueue.then(
      () => this.#read(method.toUpperCase(), timeoutMs),
      () => this.#read(method.toUpperCase(), timeoutMs),
    );
    this.#readQueue = read.catch(() => undefined);
    return read;
  }

  async #read(method: string, timeoutMs: number): Promise<RawResponse> {
    const startedAt = performance.now();
    for (;;) {
      const ended = this.finReceived || this.closed || this.closedBy !== null;
      // Only a clean FIN completes a body delimited by close; a reset truncates it.
      const parsed = parseResponse(this.#buffer, method, this.finReceived && !this.resetReceived);
      if (parsed) {
        this.#buffer = this.#buffer.subarray(parsed.consumed);
        this.responsesRead += 1;
        const { response } = parsed;
        const connectionClose = /(^|,)\s*close\s*(,|$)/i.test(response.headers['connection'] ?? '');
        const keepAliveHeader = /(^|,)\s*keep-alive\s*(,|$)/i.test(response.headers['connection'] ?? '');
        return {
          httpVersion: response.httpVersion,
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
          rawHeaders: response.rawHeaders,
          body: response.body.toString('utf8'),
          bodyBytes: response.body.length,
          chunked: response.chunked,
          connectionClose,
          keepAlive:
            !connectionClose &&
            !response.delimitedByClose &&
            (response.httpVersion === '1.1' || keepAliveHeader),
        };
      }
      if (ended) {
        const partial = this.#buffer.length;
        const detail = `connection to ${this.host}:${this.port} ${this.#describeClose()} after ${partial} response bytes`;
        throw new AmbiguousFailure(this.resetReceived ? 'reset' : 'closed-without-response', partial, detail, {
          cause: this.lastError,
        });
      }
      const left = timeoutMs - (performance.now() - startedAt);
      if (left <= 0 || !(await this.#nextEvent(left))) {
        const partial = this.#buffer.length;
        this.destroy();
        throw new AmbiguousFailure(
          'timeout',
          partial,
          `no complete response from ${this.host}:${this.port} within ${timeoutMs} ms (${partial} bytes arrived)`,
        );
      }
    }
  }

  #describeClose(): string {
    if (this.resetReceived) return this.finReceived ? 'was closed, then reset' : 'was reset';
    if (this.finReceived) return 'was closed by the server (FIN)';
    if (this.closedBy === 'error') return `failed (${errnoOf(this.lastError)})`;
    return 'was closed locally';
  }

  waitForClose(timeoutMs = 5_000): Promise<ClosedBy | 'timeout'> {
    try {
      checkDuration('timeoutMs', timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.closed) return Promise.resolve(this.closedBy ?? 'local');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#socket.off('close', onClose);
        resolve(this.closed ? (this.closedBy ?? 'local') : 'timeout');
      }, timeoutMs);
      const onClose = (): void => {
        clearTimeout(timer);
        // The 'close' listener registered in the constructor ran first, so closedBy is set.
        resolve(this.closedBy ?? 'local');
      };
      this.#socket.once('close', onClose);
    });
  }

  end(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  destroy(): void {
    this.closedBy ??= 'local';
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  reset(): void {
    this.closedBy ??= 'local';
    if (!this.#socket.destroyed) this.#socket.resetAndDestroy();
  }

  /** Resolves `true` on the next socket event, `false` after `ms` without one. */
  #nextEvent(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waker = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#wakers.delete(waker);
        resolve(false);
      }, ms);
      this.#wakers.add(waker);
    });
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const waker of wakers) waker();
  }
}

/**
 * Opens a TCP connection (no delay) for hand-written HTTP/1.1. Rejects with {@link RefusedFailure}
 * when nothing listens (`ECONNREFUSED`), with {@link ConnectFailure} on any other connect error or
 * after `timeoutMs` (errno `ETIMEDOUT`), and with {@link HarnessOptionError} on bad input. In every
 * failure case nothing was sent.
 *
 * @example
 * ```ts
 * const connection = await openConnection(server.port);
 * const response = await connection.request({ path: '/' });
 * console.log(response.status, response.headers['connection']);
 * console.log(await connection.waitForClose(5_000)); // 'fin' | 'reset' | 'local' | 'error' | 'timeout'
 * ```
 */
export function openConnection(
  port: number,
  host = '127.0.0.1',
  options: OpenConnectionOptions = {},
): Promise<RawConnection> {
  try {
    checkPort('port', port);
    checkString('host', host);
    if (options === null || typeof options !== 'object') throw new HarnessOptionError('options', options, 'an object');
    if (options.timeoutMs !== undefined) checkDuration('timeoutMs', options.timeoutMs);
  } catch (error) {
    return Promise.reject(error);
  }
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectFailure('ETIMEDOUT', host, port));
    }, timeoutMs);
    const onError = (error: Error): void => {
      clearTimeout(timer);
      const errno = errnoOf(error);
      reject(
        errno === 'ECONNREFUSED'
          ? new RefusedFailure(host, port, { cause: error })
          : new ConnectFailure(errno, host, port, { cause: error }),
      );
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(new Connection(socket, host, port));
    });
  });
}
