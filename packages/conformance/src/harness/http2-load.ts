import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from 'node:http2';
import { HarnessOptionError } from './errors.ts';

/**
 * Options for {@link runHttp2Load}. Every run is bounded: by `maxStreams` (default 50 000 in total)
 * and `maxDurationMs` (default 10 000); `until` stops it earlier.
 */
export interface Http2LoadOptions {
  /** `http://host:port` (h2c, prior knowledge) or `https://host:port` (TLS, ALPN `h2`; any certificate). */
  readonly url: string;
  /** Client sessions (connections) kept open at once. Default 10. */
  readonly sessions?: number;
  /** Streams each session keeps in flight: when one ends, the next starts at once. Default 4. */
  readonly streamsPerSession?: number;
  /** Request path. Default `/`. */
  readonly path?: string;
  /** Stops starting streams when it aborts, or settles (e.g. `server.exited`). */
  readonly until?: AbortSignal | PromiseLike<unknown>;
  /** Total streams at most. Default 50 000. */
  readonly maxStreams?: number;
  /** Run at most this long (ms). Default 10 000. */
  readonly maxDurationMs?: number;
  /** A stream with no complete response after this long (ms) is counted lost (`timeout`) and reset. Default 15 000. */
  readonly streamTimeoutMs?: number;
}

/**
 * How one stream ended:
 * - `ok`: a complete response arrived;
 * - `refused`: never processed, and the client knows it, so a retry is safe: it was never sent (the
 *   session was going away or could not connect), or the server refused it (`REFUSED_STREAM`), or
 *   its id is above the last-stream-id of a GOAWAY the server sent on its session (RFC 9113 §6.8);
 * - `lost`: the server accepted it (or may have) and it ended without a complete response: reset,
 *   cut with its session, or silent. What a graceful shutdown must prevent.
 */
export type Http2StreamOutcome = 'ok' | 'refused' | 'lost';

/** Counters of a run. */
export interface Http2LoadCounts {
  streams: number;
  ok: number;
  refused: number;
  lost: number;
  /** Lost streams by how they ended: `rst:<code name>`, an error code (`ECONNRESET` …), `timeout`. */
  lostByKind: Record<string, number>;
  /** Refused streams by why: `not-sent`, `REFUSED_STREAM`, `above-goaway`. */
  refusedByKind: Record<string, number>;
  /** Sessions that connected. */
  sessions: number;
  /** Sessions that received at least one GOAWAY. */
  sessionsToldGoaway: number;
  /** Sessions whose first GOAWAY said last-stream-id 2^31−1 and NO_ERROR (the notice of a two-step close). */
  sessionsNoticed: number;
  /** GOAWAY frames received, by error code name (`NO_ERROR` …). */
  goawayCodes: Record<string, number>;
  /** Connect attempts that failed (the listener had closed: `ECONNREFUSED`). */
  refusedConnects: number;
}

/** One stream that did not end `ok`, for diagnostics. */
export interface Http2LoadFailure {
  readonly outcome: Exclude<Http2StreamOutcome, 'ok'>;
  readonly kind: string;
  /** The stream's id (undefined: never sent). */
  readonly id: number | undefined;
  /** The session's GOAWAYs so far, as `code/last-stream-id`. */
  readonly goaways: readonly string[];
  /** Milliseconds since the run started. */
  readonly atMs: number;
}

/** The outcome of {@link runHttp2Load}. */
export interface Http2LoadResult {
  readonly totals: Http2LoadCounts;
  /** The first failures (at most 50), in order. */
  readonly failures: readonly Http2LoadFailure[];
  readonly stoppedBy: 'until' | 'maxStreams' | 'maxDuration';
  readonly durationMs: number;
}

const MAX_FAILURES_KEPT = 50;
const MAX_STREAM_ID = 2 ** 31 - 1;
/** RFC 9113 §7 error codes by value. */
const codeNames: readonly string[] = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];
/** The name of an HTTP/2 error code (`NO_ERROR` …), or the number. */
export function http2CodeName(code: number): string {
  return codeNames[code] ?? String(code);
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new HarnessOptionError(name, value, 'a positive integer');
  }
  return value;
}

/**
 * Drives `sessions` real HTTP/2 client sessions (Node's `http2.connect`) against `url`, each keeping
 * `streamsPerSession` streams in flight back to back, as a busy gRPC or HTTP/2 proxy client does. A
 * session that goes away (GOAWAY, close) is replaced by a new one, as client pools do; connects
 * refused by a closed listener are retried every 10 ms. Every stream is classified (see
 * {@link Http2StreamOutcome}) from what the client saw, GOAWAY last-stream-ids included. Resolves
 * when the run stops and every stream has ended; never rejects for a failed stream. Throws
 * `HarnessOptionError` on bad options.
 *
 * @example
 * ```ts
 * const load = runHttp2Load({ url: server.url, sessions: 10, streamsPerSession: 4, until: server.exited });
 * server.kill('SIGTERM');
 * const { totals } = await load;
 * expect(totals.lost).toBe(0);
 * ```
 */
export async function runHttp2Load(options: Http2LoadOptions): Promise<Http2LoadResult> {
  if (options === null || typeof options !== 'object') throw new HarnessOptionError('options', options, 'an object');
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HarnessOptionError('url', options.url, 'an http: or https: URL');
  const sessionCount = positive('sessions', options.sessions, 10);
  const perSession = positive('streamsPerSession', options.streamsPerSession, 4);
  const maxStreams = positive('maxStreams', options.maxStreams, 50_000);
  const maxDurationMs = positive('maxDurationMs', options.maxDurationMs, 10_000);
  const streamTimeoutMs = positive('streamTimeoutMs', options.streamTimeoutMs, 15_000);
  const path = options.path ?? '/';
  const started = performance.now();
  const totals: Http2LoadCounts = {
    streams: 0,
    ok: 0,
    refused: 0,
    lost: 0,
    lostByKind: {},
    refusedByKind: {},
    sessions: 0,
    sessionsToldGoaway: 0,
    sessionsNoticed: 0,
    goawayCodes: {},
    refusedConnects: 0,
  };
  const failures: Http2LoadFailure[] = [];
  let stoppedBy: Http2LoadResult['stoppedBy'] | undefined;
  const stop = (reason: Http2LoadResult['stoppedBy']): void => {
    stoppedBy ??= reason;
  };
  const { until } = options;
  if (until instanceof AbortSignal) {
    if (until.aborted) stop('until');
    else until.addEventListener('abort', () => stop('until'), { once: true });
  } else if (until !== undefined) {
    void Promise.resolve(until).then(
      () => stop('until'),
      () => stop('until'),
    );
  }
  const durationTimer = setTimeout(() => stop('maxDuration'), maxDurationMs);
  const open = new Set<ClientHttp2Session>();

  const count = (outcome: Http2StreamOutcome, kind: string, id: number | undefined, goaways: readonly string[]): void => {
    totals[outcome]++;
    if (outcome === 'lost') totals.lostByKind[kind] = (totals.lostByKind[kind] ?? 0) + 1;
    if (outcome === 'refused') totals.refusedByKind[kind] = (totals.refusedByKind[kind] ?? 0) + 1;
    if (outcome !== 'ok' && failures.length < MAX_FAILURES_KEPT) {
      failures.push({ outcome, kind, id, goaways: [...goaways], atMs: Math.round(performance.now() - started) });
    }
  };

  /** One session's lifetime: connect, keep streams in flight, until it goes away or the run stops. */
  const runSession = async (): Promise<void> => {
    const session = connect(url.origin, { rejectUnauthorized: false });
    open.add(session);
    const goaways: string[] = [];
    /** The lowest last-stream-id any GOAWAY of this session announced. */
    let lastStreamId = MAX_STREAM_ID;
    let told = false;
    // Connect errors and session errors show in how the session's streams end.
    session.on('error', () => {});
    session.on('goaway', (code: number, last: number) => {
      const name = http2CodeName(code);
      goaways.push(`${name}/${last}`);
      totals.goawayCodes[name] = (totals.goawayCodes[name] ?? 0) + 1;
      if (!told) {
        told = true;
        totals.sessionsToldGoaway++;
        if (code === constants.NGHTTP2_NO_ERROR && last === MAX_STREAM_ID) totals.sessionsNoticed++;
      }
      lastStreamId = Math.min(lastStreamId, last);
    });
    const connected = await new Promise<boolean>((resolve) => {
      session.once('connect', () => resolve(true));
      session.once('close', () => resolve(false));
    });
    if (!connected) {
      open.delete(session);
      totals.refusedConnects++;
      return;
    }
    totals.sessions++;

    const oneStream = (): Promise<void> =>
      new Promise<void>((resolve) => {
        totals.streams++;
        let stream: ClientHttp2Stream;
        try {
          stream = session.request({ ':path': path });
        } catch {
          // ERR_HTTP2_GOAWAY_SESSION / ERR_HTTP2_INVALID_SESSION: nothing was sent.
          count('refused', 'not-sent', undefined, goaways);
          resolve();
          return;
        }
        let status = 0;
        let ended = false;
        let error: NodeJS.ErrnoException | undefined;
        const timer = setTimeout(() => {
          error ??= Object.assign(new Error('stream timeout'), { code: 'timeout' });
          stream.close(constants.NGHTTP2_CANCEL);
        }, streamTimeoutMs);
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
        });
        stream.on('data', () => {});
        stream.on('end', () => {
          ended = true;
        });
        stream.on('error', (e: NodeJS.ErrnoException) => {
          error ??= e;
        });
        stream.on('close', () => {
          clearTimeout(timer);
          const id = stream.id;
          if (ended && status > 0 && error === undefined) count('ok', 'ok', id, goaways);
          else if (id === undefined) count('refused', 'not-sent', id, goaways);
          else if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) count('refused', 'REFUSED_STREAM', id, goaways);
          else if (id > lastStreamId) count('refused', 'above-goaway', id, goaways);
          else if (error?.code === 'timeout') count('lost', 'timeout', id, goaways);
          else if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
            count('lost', `rst:${http2CodeName(stream.rstCode)}`, id, goaways);
          } else count('lost', error?.code ?? 'closed-without-response', id, goaways);
          resolve();
        });
      });

    const worker = async (): Promise<void> => {
      while (stoppedBy === undefined && !session.closed && !session.destroyed) {
        if (totals.streams >= maxStreams) {
          stop('maxStreams');
          break;
        }
        await oneStream();
      }
    };
    await Promise.all(Array.from({ length: perSession }, worker));
    // Done with it: a graceful close lets the server see the client go.
    if (!session.destroyed) session.close();
    if (!session.destroyed) await new Promise((resolve) => session.once('close', resolve));
    open.delete(session);
  };

  const slot = async (): Promise<void> => {
    while (stoppedBy === undefined) {
      const before = totals.refusedConnects;
      await runSession();
      // A refused connect (the listener closed): try again a little later, as clients do.
      if (totals.refusedConnects > before) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await Promise.all(Array.from({ length: sessionCount }, slot));
  clearTimeout(durationTimer);
  for (const session of open) session.destroy();
  return { totals, failures, stoppedBy: stoppedBy ?? 'until', durationMs: Math.round(performance.now() - started) };
}
