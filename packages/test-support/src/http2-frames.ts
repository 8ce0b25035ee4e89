import { type Socket, connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { HarnessOptionError } from './errors.ts';

/** HTTP/2 frame types (RFC 9113 §6) the raw client names. */
const FRAME_NAMES: Readonly<Record<number, string>> = {
  0: 'DATA',
  1: 'HEADERS',
  2: 'PRIORITY',
  3: 'RST_STREAM',
  4: 'SETTINGS',
  5: 'PUSH_PROMISE',
  6: 'PING',
  7: 'GOAWAY',
  8: 'WINDOW_UPDATE',
  9: 'CONTINUATION',
};

/** One frame the server sent, decoded as far as the tests need (HPACK is not decoded). */
export interface Http2Frame {
  /** `DATA`, `HEADERS`, `RST_STREAM`, `SETTINGS`, `PING`, `GOAWAY`, `WINDOW_UPDATE` …; `CLOSED` for the end of the connection. */
  readonly type: string;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
  /** GOAWAY: the last-stream-id. */
  readonly lastStreamId?: number;
  /** GOAWAY and RST_STREAM: the error code. */
  readonly errorCode?: number;
  /** `performance.now()` when it was read. */
  readonly at: number;
}

/** A hand-driven HTTP/2 client connection: it sends exactly what the test asks, and records every frame. */
export interface Http2FrameClient {
  /** Every frame read so far, in order (and a last `CLOSED` one once the connection ended). */
  readonly frames: readonly Http2Frame[];
  /** Opens a stream: HEADERS (END_STREAM, END_HEADERS) for `GET path`. Returns its id (1, 3, 5 …). */
  request(path: string): number;
  /** Acknowledges a PING the server sent. */
  pingAck(ping: Http2Frame): void;
  /** Sends a GOAWAY of the client's own (last-stream-id 0, NO_ERROR), as Node's client does when it receives one. */
  goaway(): void;
  /** Resolves with the first frame (already read or to come) that `test` accepts; rejects after `timeoutMs` (5 000). */
  waitFor(test: (frame: Http2Frame) => boolean, timeoutMs?: number): Promise<Http2Frame>;
  /** The body of stream `id` so far (its DATA frames, as text). */
  body(id: number): string;
  /** Whether stream `id` ended with END_STREAM on a DATA or HEADERS frame. */
  ended(id: number): boolean;
  /** Closes the connection at once. */
  destroy(): void;
}

/** Options for {@link openHttp2Frames}. */
export interface OpenHttp2FramesOptions {
  /** Acknowledge every SETTINGS frame (default true); PINGs are never acknowledged by themselves. */
  readonly ackSettings?: boolean;
}

function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK literal header field without indexing, new name, no Huffman (RFC 7541 §6.2.2). */
function literal(name: string, value: string): Buffer {
  const string = (text: string): Buffer => {
    const bytes = Buffer.from(text, 'latin1');
    if (bytes.length > 126) throw new HarnessOptionError('header', text, 'at most 126 bytes (the raw client writes one-byte lengths)');
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  };
  return Buffer.concat([Buffer.from([0]), string(name), string(value)]);
}

/**
 * Opens an HTTP/2 connection by hand to `url` (`http:` with prior knowledge, or `https:` with ALPN
 * `h2` and any certificate) and resolves once the server's SETTINGS arrived: unlike a real client,
 * it opens streams whenever told, also after a GOAWAY, and never answers a PING or GOAWAY by itself.
 * That is what a test needs to put a stream between the two GOAWAYs of a graceful close, or to be
 * the client that answers a GOAWAY with its own. Rejects if the connection fails or no SETTINGS
 * comes within 5 s.
 *
 * @example
 * ```ts
 * const client = await openHttp2Frames(server.url);
 * server.kill('SIGTERM');
 * await client.waitFor((f) => f.type === 'GOAWAY');
 * const id = client.request('/'); // opened between the two GOAWAYs
 * ```
 */
export async function openHttp2Frames(url: string, options: OpenHttp2FramesOptions = {}): Promise<Http2FrameClient> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  if (!secure && target.protocol !== 'http:') throw new HarnessOptionError('url', url, 'an http: or https: URL');
  const port = Number(target.port);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const ackSettings = options.ackSettings ?? true;
  const socket: Socket = secure
    ? connectTls({ port, host, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: 'localhost' })
    : connectTcp(port, host);
  const frames: Http2Frame[] = [];
  const waiters: { test: (frame: Http2Frame) => boolean; resolve: (frame: Http2Frame) => void }[] = [];
  const bodies = new Map<number, string>();
  const endedStreams = new Set<number>();
  let nextId = 1;
  let pending = Buffer.alloc(0);
  const record = (entry: Http2Frame): void => {
    frames.push(entry);
    for (const waiter of waiters.splice(0)) {
      if (waiter.test(entry)) waiter.resolve(entry);
      else waiters.push(waiter);
    }
  };
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const typeCode = pending[3]!;
      const flags = pending[4]!;
      const streamId = pending.readUInt32BE(5) & 0x7fffffff;
      const payload = Buffer.from(pending.subarray(9, 9 + length));
      pending = pending.subarray(9 + length);
      const type = FRAME_NAMES[typeCode] ?? `TYPE_${typeCode}`;
      let extra: Partial<Http2Frame> = {};
      if (type === 'GOAWAY') extra = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, errorCode: payload.readUInt32BE(4) };
      if (type === 'RST_STREAM') extra = { errorCode: payload.readUInt32BE(0) };
      if (type === 'SETTINGS' && (flags & 1) === 0 && ackSettings) socket.write(frame(4, 1, 0));
      if (type === 'DATA') bodies.set(streamId, (bodies.get(streamId) ?? '') + payload.toString('latin1'));
      if ((type === 'DATA' || type === 'HEADERS') && (flags & 1) !== 0) endedStreams.add(streamId);
      record({ type, flags, streamId, payload, ...extra, at: performance.now() });
    }
  });
  socket.on('close', () => record({ type: 'CLOSED', flags: 0, streamId: 0, payload: Buffer.alloc(0), at: performance.now() }));
  socket.on('error', () => {});

  const client: Http2FrameClient = {
    frames,
    request(path: string): number {
      const id = nextId;
      nextId += 2;
      const block = Buffer.concat([
        literal(':method', 'GET'),
        literal(':path', path),
        literal(':scheme', secure ? 'https' : 'http'),
        literal(':authority', target.host),
      ]);
      socket.write(frame(1, 0x1 | 0x4, id, block));
      return id;
    },
    pingAck(ping: Http2Frame): void {
      socket.write(frame(6, 1, 0, ping.payload));
    },
    goaway(): void {
      socket.write(frame(7, 0, 0, Buffer.alloc(8)));
    },
    waitFor(test: (frame: Http2Frame) => boolean, timeoutMs = 5_000): Promise<Http2Frame> {
      const found = frames.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.findIndex((waiter) => waiter.resolve === done);
          if (index >= 0) waiters.splice(index, 1);
          reject(new Error(`no such HTTP/2 frame within ${timeoutMs} ms; got ${frames.map((f) => f.type).join(' ')}`));
        }, timeoutMs);
        const done = (entry: Http2Frame): void => {
          clearTimeout(timer);
          resolve(entry);
        };
        waiters.push({ test, resolve: done });
      });
    },
    body: (id: number): string => bodies.get(id) ?? '',
    ended: (id: number): boolean => endedStreams.has(id),
    destroy(): void {
      socket.destroy();
    },
  };

  await new Promise<void>((resolve, reject) => {
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      socket.write(frame(4, 0, 0));
      resolve();
    });
    socket.once('error', reject);
  });
  await client.waitFor((entry) => (entry.type === 'SETTINGS' && (entry.flags & 1) === 0) || entry.type === 'CLOSED');
  return client;
}
