import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { checkDuration, checkPort, checkString } from '@quiesce/test-support';
import { HarnessOptionError, ProtocolFailure } from './errors.ts';
import { Waiters, readRawHead, watchEnd } from './internal/raw-stream.ts';
import type { ClosedBy } from './raw-http.ts';

/** RFC 6455 opcodes this client reads. */
const TEXT = 0x1;
const CLOSE = 0x8;
const PING = 0x9;
const CONTINUATION = 0x0;
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One frame as the server sent it. */
export interface WebSocketFrame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
  /** Milliseconds after the handshake completed. */
  readonly atMs: number;
}

/** The server's Close frame: its status code (absent when the frame had no body) and reason. */
export interface ServerClose {
  readonly code: number | undefined;
  readonly reason: string;
  /** Milliseconds after the handshake completed. */
  readonly atMs: number;
}

/** Options for {@link openWebSocket}. */
export interface OpenWebSocketOptions {
  /** Request target; default `/ws`. */
  path?: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /**
   * Answer the server's Close frame with the same code, as browsers do (default `true`). `false`
   * plays a peer that never answers: the server must end the connection by itself.
   */
  answerClose?: boolean;
  /** Give up on the handshake after this many ms. Default 5 000. */
  timeoutMs?: number;
}

/**
 * A WebSocket client that speaks RFC 6455 by hand over one TCP connection, so that a test sees
 * exactly what the server sent (every frame, the Close frame's code and reason) and how the
 * connection ended (FIN or RST), with no client library in between. Frames it sends are masked.
 */
export interface RawWebSocket {
  /** The `101` response's headers, names lowercased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every frame received so far, in order. */
  readonly frames: readonly WebSocketFrame[];
  /** The server's Close frame, once one arrived. */
  readonly serverClose: ServerClose | undefined;
  /** This client sent a Close frame (its own, or its answer). */
  readonly closeSent: boolean;
  /** How the TCP connection ended, first cause; `null` while open. */
  readonly closedBy: ClosedBy | null;
  /** Milliseconds after the handshake at which the connection ended (FIN or RST), if it did. */
  readonly endedAtMs: number | undefined;
  /** Sends a text frame. Throws when the connection has ended. */
  sendText(text: string): void;
  /** Sends a Close frame with `code` (default 1000). */
  sendClose(code?: number, reason?: string): void;
  /** Resolves with the text of the next complete text message not read yet; rejects after `timeoutMs` (default 5 000) or when the connection ends first. */
  nextText(timeoutMs?: number): Promise<string>;
  /** Resolves with the server's Close frame, or `timeout` after `timeoutMs` (default 5 000). Never rejects. */
  waitForClose(timeoutMs?: number): Promise<ServerClose | 'timeout'>;
  /** Resolves once the TCP connection has ended, with how, or `timeout` after `timeoutMs` (default 5 000). Never rejects. */
  waitForEnd(timeoutMs?: number): Promise<ClosedBy | 'timeout'>;
  /** Closes the TCP connection at once. Idempotent. */
  destroy(): void;
}

class Client implements RawWebSocket {
  headers: Record<string, string> = {};
  readonly frames: WebSocketFrame[] = [];
  serverClose: ServerClose | undefined;
  closeSent = false;
  closedBy: ClosedBy | null = null;
  endedAtMs: number | undefined;
  readonly #socket: Socket;
  readonly #answerClose: boolean;
  #buffer: Buffer = Buffer.alloc(0);
  #openedAt = 0;
  #read = 0;
  readonly #waiters = new Waiters();

  constructor(socket: Socket, answerClose: boolean) {
    this.#socket = socket;
    this.#answerClose = answerClose;
  }

  /** Called once the handshake is done, with the bytes that followed it. */
  start(rest: Buffer, headers: Record<string, string>): void {
    this.headers = headers;
    this.#openedAt = performance.now();
    this.#socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    watchEnd(this.#socket, (how) => this.#ended(how));
    if (rest.length > 0) this.#receive(rest);
    this.#socket.resume();
  }

  #since(): number {
    return performance.now() - this.#openedAt;
  }

  #ended(how: ClosedBy): void {
    if (this.closedBy === null) {
      this.closedBy = how;
      this.endedAtMs = this.#since();
    }
    this.#waiters.wake();
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const frame = this.#parseFrame();
      if (!frame) break;
      this.frames.push(frame);
      if (frame.opcode === CLOSE && this.serverClose === undefined) {
        const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
        this.serverClose = { code, reason: frame.payload.subarray(2).toString('utf8'), atMs: frame.atMs };
        if (this.#answerClose && !this.closeSent && this.closedBy === null) this.sendClose(code ?? 1000);
      } else if (frame.opcode === PING && this.closedBy === null) {
        this.#write(0xa, frame.payload);
      }
    }
    this.#waiters.wake();
  }

  #parseFrame(): WebSocketFrame | undefined {
    const buffer = this.#buffer;
    if (buffer.length < 2) return undefined;
    const first = buffer[0]!;
    const second = buffer[1]!;
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return undefined;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return undefined;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    if ((second & 0x80) !== 0) throw new ProtocolFailure('a server sent a masked WebSocket frame');
    if (buffer.length < offset + length) return undefined;
    this.#buffer = buffer.subarray(offset + length);
    return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload: buffer.subarray(offset, offset + length), atMs: this.#since() };
  }

  #write(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
    let head: Buffer;
    if (payload.length < 126) head = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
    else if (payload.length < 65_536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | opcode;
      head[1] = 0x80 | 126;
      head.writeUInt16BE(payload.length, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | opcode;
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    this.#socket.write(Buffer.concat([head, mask, masked]));
  }

  sendText(text: string): void {
    if (this.closedBy !== null) throw new ProtocolFailure(`cannot send on a WebSocket whose connection ended (${this.closedBy})`);
    this.#write(TEXT, Buffer.from(text, 'utf8'));
  }

  sendClose(code = 1000, reason = ''): void {
    if (this.closedBy !== null) return;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2, 'utf8');
    this.closeSent = true;
    this.#write(CLOSE, payload);
  }

  async nextText(timeoutMs = 5_000): Promise<string> {
    checkDuration('timeoutMs', timeoutMs);
    const found = await this.#waiters.until(() => {
      const text = this.#takeText();
      if (text !== undefined) return { text };
      return this.closedBy !== null ? { text: undefined } : undefined;
    }, timeoutMs);
    if (found !== 'timeout' && found.text !== undefined) return found.text;
    throw new ProtocolFailure(found === 'timeout' ? `no text message within ${timeoutMs} ms` : `the connection ended (${this.closedBy}) before a text message`);
  }

  /** The next complete text message after those already read (control frames skipped), or undefined. */
  #takeText(): string | undefined {
    const parts: Buffer[] = [];
    for (let i = this.#read; i < this.frames.length; i++) {
      const frame = this.frames[i]!;
      if (parts.length === 0 && frame.opcode !== TEXT) continue;
      if (parts.length > 0 && frame.opcode !== CONTINUATION) continue;
      parts.push(frame.payload);
      if (frame.fin) {
        this.#read = i + 1;
        return Buffer.concat(parts).toString('utf8');
      }
    }
    return undefined;
  }

  waitForClose(timeoutMs = 5_000): Promise<ServerClose | 'timeout'> {
    return this.#waiters.until(() => this.serverClose, timeoutMs);
  }

  waitForEnd(timeoutMs = 5_000): Promise<ClosedBy | 'timeout'> {
    return this.#waiters.until(() => this.closedBy ?? undefined, timeoutMs);
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/**
 * Opens a WebSocket to `port` by hand: a GET with `Upgrade: websocket` and a random key, then checks
 * for `101` and the right `Sec-WebSocket-Accept`. Resolves with the {@link RawWebSocket}. Rejects
 * with {@link RefusedFailure} / {@link ConnectFailure} when the connection fails, and with
 * {@link ProtocolFailure} (naming the status line) when the server does not switch protocols.
 *
 * @example
 * ```ts
 * const ws = await openWebSocket(server.port, { path: '/ws' });
 * ws.sendText('hi');
 * expect(await ws.nextText()).toBe('hi');
 * server.kill('SIGTERM');
 * expect(await ws.waitForClose()).toMatchObject({ code: 1001 });
 * expect(await ws.waitForEnd()).toBe('fin');
 * ```
 */
export function openWebSocket(port: number, options: OpenWebSocketOptions = {}): Promise<RawWebSocket> {
  if (options === null || typeof options !== 'object') return Promise.reject(new HarnessOptionError('options', options, 'an object'));
  const { path = '/ws', host = '127.0.0.1', answerClose = true, timeoutMs = 5_000 } = options;
  try {
    checkPort('port', port);
    checkString('path', path);
    checkString('host', host);
    checkDuration('timeoutMs', timeoutMs);
  } catch (error) {
    return Promise.reject(error);
  }
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
  const request =
    `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  return readRawHead(host, port, request, timeoutMs).then(({ socket, statusLine, headers, rest }) => {
    const refuse = (detail: string): never => {
      socket.destroy();
      throw new ProtocolFailure(detail);
    };
    if (!/^HTTP\/1\.1 101\b/.test(statusLine)) refuse(`the server did not switch to WebSocket: ${JSON.stringify(statusLine)}`);
    if (headers['sec-websocket-accept'] !== accept) refuse(`wrong Sec-WebSocket-Accept ${JSON.stringify(headers['sec-websocket-accept'])}`);
    const client = new Client(socket, answerClose);
    client.start(rest, headers);
    return client;
  });
}
