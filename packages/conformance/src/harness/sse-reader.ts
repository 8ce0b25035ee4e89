import { type Socket, connect } from 'node:net';
import { checkDuration, checkPort, checkString } from '@quiesce/test-support';
import { ConnectFailure, HarnessOptionError, ProtocolFailure, RefusedFailure } from './errors.ts';
import type { ClosedBy } from './raw-http.ts';

/** One Server-Sent Event: its `event:` field (`message` when absent) and its `data:` lines joined with `\n`. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
  /** Milliseconds after the response head arrived. */
  readonly atMs: number;
}

/** Options for {@link openEventStream}. */
export interface OpenEventStreamOptions {
  /** Request target; default `/events`. */
  path?: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Give up on the response head after this many ms. Default 5 000. */
  timeoutMs?: number;
}

/**
 * A Server-Sent Events stream read by hand off one TCP connection: the response head, every event,
 * and how the body ended, so a test sees whether the stream ended properly (the chunked
 * terminator `0\r\n\r\n`, then FIN) or was cut (FIN or RST in the middle of the body).
 */
export interface EventStream {
  readonly status: number;
  /** Response headers, names lowercased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every complete event so far. */
  readonly events: readonly ServerSentEvent[];
  /** The body's end arrived: the chunked terminator (or the whole `Content-Length`). */
  readonly complete: boolean;
  /** Milliseconds after the head at which the body was complete. */
  readonly completeAtMs: number | undefined;
  /** How the TCP connection ended, first cause; `null` while open. */
  readonly closedBy: ClosedBy | null;
  /** Resolves with the first event (from the start) that `matches`, or `timeout` after `timeoutMs` (default 5 000). Never rejects. */
  waitForEvent(matches: (event: ServerSentEvent) => boolean, timeoutMs?: number): Promise<ServerSentEvent | 'timeout'>;
  /** Resolves once the TCP connection has ended, with how, or `timeout` after `timeoutMs` (default 5 000). Never rejects. */
  waitForEnd(timeoutMs?: number): Promise<ClosedBy | 'timeout'>;
  /** Closes the connection at once. Idempotent. */
  destroy(): void;
}

class Reader implements EventStream {
  status = 0;
  headers: Record<string, string> = {};
  readonly events: ServerSentEvent[] = [];
  complete = false;
  completeAtMs: number | undefined;
  closedBy: ClosedBy | null = null;
  readonly #socket: Socket;
  #startedAt = 0;
  #chunked = false;
  #remaining = Number.POSITIVE_INFINITY;
  #raw: Buffer = Buffer.alloc(0);
  #text = '';
  #eventName = '';
  #data: string[] = [];
  readonly #wakers = new Set<() => void>();

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  start(status: number, headers: Record<string, string>, rest: Buffer): void {
    this.status = status;
    this.headers = headers;
    this.#startedAt = performance.now();
    this.#chunked = /\bchunked\b/i.test(headers['transfer-encoding'] ?? '');
    if (!this.#chunked && headers['content-length'] !== undefined) this.#remaining = Number(headers['content-length']);
    const socket = this.#socket;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('end', () => this.#ended('fin'));
    socket.on('error', (error: NodeJS.ErrnoException) => this.#ended(error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : 'error'));
    socket.on('close', () => this.#ended('local'));
    if (rest.length > 0) this.#receive(rest);
  }

  #ended(how: ClosedBy): void {
    this.closedBy ??= how;
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  #finish(): void {
    if (this.complete) return;
    this.complete = true;
    this.completeAtMs = performance.now() - this.#startedAt;
  }

  #receive(chunk: Buffer): void {
    if (this.complete) return;
    if (!this.#chunked) {
      const body = chunk.subarray(0, Math.min(chunk.length, this.#remaining));
      this.#remaining -= body.length;
      this.#parse(body.toString('utf8'));
      if (this.#remaining === 0) this.#finish();
      this.#wake();
      return;
    }
    this.#raw = this.#raw.length === 0 ? chunk : Buffer.concat([this.#raw, chunk]);
    for (;;) {
      const lineEnd = this.#raw.indexOf('\r\n');
      if (lineEnd < 0) break;
      const size = Number.parseInt(this.#raw.subarray(0, lineEnd).toString('latin1'), 16);
      if (!Number.isFinite(size)) throw new ProtocolFailure('a malformed chunk size in an event stream');
      if (size === 0) {
        // The terminator: the size line and the empty trailer line.
        if (this.#raw.length < lineEnd + 4) break;
        this.#raw = this.#raw.subarray(lineEnd + 4);
        this.#finish();
        break;
      }
      if (this.#raw.length < lineEnd + 2 + size + 2) break;
      this.#parse(this.#raw.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8'));
      this.#raw = this.#raw.subarray(lineEnd + 2 + size + 2);
    }
    this.#wake();
  }

  /** The event-stream format: `field: value` lines, an empty line dispatches. */
  #parse(text: string): void {
    this.#text += text;
    for (let end = this.#text.indexOf('\n'); end >= 0; end = this.#text.indexOf('\n')) {
      const line = this.#text.slice(0, end).replace(/\r$/, '');
      this.#text = this.#text.slice(end + 1);
      if (line === '') {
        if (this.#data.length > 0 || this.#eventName !== '') {
          this.events.push({ event: this.#eventName || 'message', data: this.#data.join('\n'), atMs: performance.now() - this.#startedAt });
        }
        this.#eventName = '';
        this.#data = [];
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.#eventName = value;
      else if (field === 'data') this.#data.push(value);
    }
  }

  async #until<T>(test: () => T | undefined, timeoutMs: number): Promise<T | 'timeout'> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = test();
      if (value !== undefined) return value;
      const left = deadline - performance.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#wakers.add(wake);
      });
    }
  }

  waitForEvent(matches: (event: ServerSentEvent) => boolean, timeoutMs = 5_000): Promise<ServerSentEvent | 'timeout'> {
    return this.#until(() => this.events.find(matches), timeoutMs);
  }

  waitForEnd(timeoutMs = 5_000): Promise<ClosedBy | 'timeout'> {
    return this.#until(() => this.closedBy ?? undefined, timeoutMs);
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/**
 * Opens `GET path` on `port` by hand and reads it as a Server-Sent Events stream. Resolves once the
 * response head arrived (whatever its status), with the {@link EventStream}. Rejects with
 * {@link RefusedFailure} / {@link ConnectFailure} when the connection fails, and with
 * {@link ProtocolFailure} when no head arrives in time.
 *
 * @example
 * ```ts
 * const stream = await openEventStream(server.port, { path: '/events' });
 * await stream.waitForEvent((e) => e.data === 'tick 2');
 * server.kill('SIGTERM');
 * expect(await stream.waitForEvent((e) => e.event === 'shutdown')).toMatchObject({ data: 'shutdown' });
 * expect(await stream.waitForEnd()).toBe('fin');
 * expect(stream.complete).toBe(true); // the chunked terminator came before the FIN
 * ```
 */
export function openEventStream(port: number, options: OpenEventStreamOptions = {}): Promise<EventStream> {
  if (options === null || typeof options !== 'object') return Promise.reject(new HarnessOptionError('options', options, 'an object'));
  const { path = '/events', host = '127.0.0.1', timeoutMs = 5_000 } = options;
  try {
    checkPort('port', port);
    checkString('path', path);
    checkString('host', host);
    checkDuration('timeoutMs', timeoutMs);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<EventStream>((resolve, reject) => {
    const socket = connect({ port, host });
    const reader = new Reader(socket);
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new ProtocolFailure(`no response head within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const errno = typeof error.code === 'string' ? error.code : 'UNKNOWN';
      fail(errno === 'ECONNREFUSED' ? new RefusedFailure(host, port, { cause: error }) : new ConnectFailure(errno, host, port, { cause: error }));
    });
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n\r\n`));
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.removeAllListeners('error');
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
      if (!Number.isInteger(status)) {
        fail(new ProtocolFailure(`not an HTTP response: ${JSON.stringify(lines[0])}`));
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      clearTimeout(timer);
      reader.start(status, headers, head.subarray(end + 4));
      resolve(reader);
    };
    socket.on('data', onData);
  });
}
