import type { Socket } from 'node:net';
import { checkDuration, checkPort, checkString } from '@quiesce/test-support';
import { HarnessOptionError, ProtocolFailure } from './errors.ts';
import { Waiters, readRawHead, watchEnd } from './internal/raw-stream.ts';
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
  readonly #waiters = new Waiters();

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  start(status: number, headers: Record<string, string>, rest: Buffer): void {
    this.status = status;
    this.headers = headers;
    this.#startedAt = performance.now();
    this.#chunked = /\bchunked\b/i.test(headers['transfer-encoding'] ?? '');
    if (!this.#chunked && headers['content-length'] !== undefined) this.#remaining = Number(headers['content-length']);
    this.#socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    watchEnd(this.#socket, (how) => this.#ended(how));
    if (rest.length > 0) this.#receive(rest);
    this.#socket.resume();
  }

  #ended(how: ClosedBy): void {
    this.closedBy ??= how;
    this.#waiters.wake();
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
      this.#waiters.wake();
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
    this.#waiters.wake();
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

  waitForEvent(matches: (event: ServerSentEvent) => boolean, timeoutMs = 5_000): Promise<ServerSentEvent | 'timeout'> {
    return this.#waiters.until(() => this.events.find(matches), timeoutMs);
  }

  waitForEnd(timeoutMs = 5_000): Promise<ClosedBy | 'timeout'> {
    return this.#waiters.until(() => this.closedBy ?? undefined, timeoutMs);
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
  const request = `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n\r\n`;
  return readRawHead(host, port, request, timeoutMs).then(({ socket, statusLine, headers, rest }) => {
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!Number.isInteger(status)) {
      socket.destroy();
      throw new ProtocolFailure(`not an HTTP response: ${JSON.stringify(statusLine)}`);
    }
    const reader = new Reader(socket);
    reader.start(status, headers, rest);
    return reader;
  });
}
