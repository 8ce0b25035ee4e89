import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '@quiesce/core';
import type { ConnectionTracker, SocketCloser, TrackedConnection } from '@quiesce/drain';
import { type TlsCarrier, tlsSocketOf } from './internal/socket-closer.ts';

/** RFC 9113 §7 error codes (the values of `http2.constants.NGHTTP2_*`). */
const NO_ERROR = 0;
/** The code of the GOAWAY that tells a client its session is cut at the deadline (`NGHTTP2_INTERNAL_ERROR`). */
export const HTTP2_DEADLINE_CODE = 2;
/** The highest stream id: the last-stream-id of the notice (RFC 9113 §6.8). */
const MAX_STREAM_ID = 2 ** 31 - 1;
/** How long the notice waits for its PING to be acknowledged before the final GOAWAY (grpc-go waits 5 s, Envoy its drain timeout). */
export const HTTP2_PING_BOUND_MS = 1_000;

/** Why a session was destroyed before its streams ended: what the server's `sessionError` event reports. */
class Http2DeadlineError extends Error {
  override readonly name: string = 'Http2DeadlineError';
  readonly code: string = 'QUIESCE_HTTP2_DEADLINE';
  constructor() {
    super('quiesce: the shutdown deadline (or an immediate stop) cut this HTTP/2 session: GOAWAY INTERNAL_ERROR');
  }
}

/** Where a session is in its graceful close. */
const SERVING = 0;
/** The notice (GOAWAY 2^31−1, NO_ERROR) is submitted; the PING follows once it is written. */
const NOTICE = 1;
/** The final GOAWAY is sent (`session.close()`): the session ends when its last stream does. */
const FINAL = 2;

/** What the adapter keeps per HTTP/2 session (one object, on the session under a symbol). */
interface SessionState {
  readonly session: ServerHttp2Session;
  /** The TCP or TLS socket the session runs on (the session only hands out a proxy that cannot be destroyed). */
  readonly socket: Socket | undefined;
  readonly connection: TrackedConnection;
  phase: number;
  timer: TimerHandle | undefined;
  /** The drain found it idle past its grace: once its final GOAWAY is out, its socket is ended without waiting for the peer. */
  release: boolean;
}

/** The session or stream's {@link SessionState}. */
const stateOf: unique symbol = Symbol('quiesce.http2Session');
type WithState = { [stateOf]?: SessionState };
/** A socket carrying its connection under the adapter's symbol. */
type Tagged = Record<symbol, TrackedConnection | undefined>;

/** Options for {@link http2Sessions}. */
export interface Http2SessionsOptions {
  readonly tracker: ConnectionTracker;
  readonly clock: Clock;
  /**
   * The symbol under which the adapter keeps, on each socket it tracks, that socket's connection:
   * a session takes over its socket's place in the tracker.
   */
  readonly connectionOf: symbol;
}

/** The HTTP/2 side of a Node adapter: what it calls on the server's `session` and `stream` events and at shutdown. */
export interface Http2Sessions {
  /**
   * A new session (the server's `session` event): tracked as a connection in place of its socket.
   * `handedOver` is the socket the server is being handed when it opens an h2c session on it
   * (before the adapter tracks that socket).
   */
  sessionOpened(session: ServerHttp2Session, handedOver: Socket | undefined): void;
  /** A new stream (the server's `stream` event): a request in flight on its session until the stream closes. */
  streamOpened(stream: ServerHttp2Stream): void;
  /**
   * Starts the graceful GOAWAY of every open session, and of every session opened from now on.
   * Idempotent.
   */
  goAway(): void;
  /** Sessions open now (for tests and stats). */
  readonly size: number;
}

/**
 * HTTP/2 sessions drained as RFC 9113 §6.8 describes and grpc-go's `GracefulStop` does: each session
 * is a connection of the tracker and each stream a request on it. From {@link Http2Sessions.goAway}
 * on, a session gets a GOAWAY with last-stream-id 2^31−1 and NO_ERROR (the notice: stop opening
 * streams), then a PING once that is written, and when the PING is acknowledged (or after
 * {@link HTTP2_PING_BOUND_MS}, or at once when no stream is in flight) the final GOAWAY with the
 * id of the last stream it accepted (`session.close()`); the session then ends when its last stream
 * does. Until `goAway()`, sessions serve as if nothing happened: HTTP/2 has no `Connection: close`.
 *
 * What Node does with it (nghttp2 1.61–1.70 on Node 20–26): once any GOAWAY is written, nghttp2
 * ignores streams the client opens after it, whatever the last-stream-id says (Node exposes no
 * `nghttp2_submit_shutdown_notice`). So a stream the client opened before it read the notice is not
 * served: the final GOAWAY's last-stream-id is below it, and the client knows it was never
 * processed and may retry it on another connection (RFC 9113 §8.7). The notice still matters: after
 * it, no stream is accepted any more, so the final GOAWAY names every stream that was, and none of
 * them is reset (a lone GOAWAY, as `server.close()` sends on Node ≥ 24, resets a stream accepted
 * between the call and the write).
 *
 * At the deadline the tracker destroys what is left: each session gets a GOAWAY with
 * INTERNAL_ERROR ({@link HTTP2_DEADLINE_CODE}) and its socket is closed once that is written.
 */
export function http2Sessions(options: Http2SessionsOptions): Http2Sessions {
  const { tracker, clock, connectionOf } = options;
  const open = new Set<SessionState>();
  let goingAway = false;

  /** Final GOAWAY: the last accepted stream's id; Node then destroys the session after its last stream. */
  const final = (state: SessionState): void => {
    if (state.phase === FINAL) return;
    state.phase = FINAL;
    if (state.timer !== undefined) clock.clearTimeout(state.timer);
    state.timer = undefined;
    if (!state.session.destroyed) state.session.close();
    if (state.release) setImmediate(releaseSocket, state);
  };

  /**
   * An idle session whose final GOAWAY is out, and whose client has not closed it within the idle
   * grace (a client that went silent): Node would keep its socket half-open until the peer's FIN.
   * End it now (after the GOAWAY frames, which are written by then); the session reports its close.
   */
  const releaseSocket = (state: SessionState): void => {
    if (!state.session.destroyed) state.session.destroy();
    state.socket?.destroySoon();
  };

  /** The notice is written (a macrotask after it was submitted): PING, and the final GOAWAY at its ACK. */
  const afterNotice = (state: SessionState): void => {
    if (state.phase !== NOTICE) return;
    const { session } = state;
    // No stream in flight: nghttp2 stops reading once its GOAWAY is out and nothing is open, so an
    // ACK would never be read. Nothing can be accepted any more either: close now.
    if (session.destroyed || session.closed || state.connection.inFlight === 0) {
      final(state);
      return;
    }
    let sent = false;
    try {
      // Acknowledged or cancelled (the session went away), the notice has done its part.
      sent = session.ping(() => final(state));
    } catch {
      // Destroyed meanwhile, or too many PINGs outstanding: the bound below decides.
    }
    if (!sent) {
      final(state);
      return;
    }
    state.timer = clock.setTimeout(() => final(state), HTTP2_PING_BOUND_MS);
  };

  const notice = (state: SessionState): void => {
    if (state.phase !== SERVING) return;
    const { session } = state;
    // Already going away: the client's GOAWAY (Node answers it with session.close()) or Node ≥ 24's
    // server.close(). Its final GOAWAY is sent; let it end with its streams.
    if (session.destroyed || session.closed) {
      state.phase = FINAL;
      return;
    }
    state.phase = NOTICE;
    try {
      session.goaway(NO_ERROR, MAX_STREAM_ID);
    } catch {
      final(state);
      return;
    }
    // Node writes the GOAWAY in a native immediate that runs before this one; a PING submitted in
    // the same tick would go out first (nghttp2 sends PINGs ahead of other frames).
    setImmediate(afterNotice, state);
  };

  const onSessionClose = function (this: ServerHttp2Session & WithState): void {
    const state = this[stateOf];
    if (state === undefined) return;
    if (state.timer !== undefined) clock.clearTimeout(state.timer);
    state.timer = undefined;
    open.delete(state);
    tracker.connectionClosed(state.connection);
  };

  const closer: SocketCloser<ServerHttp2Session & WithState> = {
    // The drain found the session idle past its grace: its clients had that long to read the last
    // response and close. The graceful GOAWAY if it got none yet (a drain without stopAccepting),
    // then its socket ends; the session reports its close itself.
    close: (session) => {
      const state = session[stateOf];
      if (state === undefined) return false;
      state.release = true;
      if (state.phase === SERVING) notice(state);
      else if (state.phase === FINAL) setImmediate(releaseSocket, state);
      return false;
    },
    // The deadline, or an immediate stop: GOAWAY with an error code, then the socket closes once
    // that is written (after a graceful close() Node would only half-close it and wait for the peer).
    destroy: (session) => {
      const state = session[stateOf];
      if (state?.timer !== undefined) clock.clearTimeout(state.timer);
      if (state !== undefined) state.phase = FINAL;
      // An error, not a bare code: destroy(undefined, code) would take the default error (NO_ERROR)
      // for its code. The server reports it as 'sessionError'.
      if (!session.destroyed) session.destroy(new Http2DeadlineError(), HTTP2_DEADLINE_CODE);
      state?.socket?.destroySoon();
    },
  };

  const onStreamClose = function (this: ServerHttp2Stream & WithState): void {
    const state = this[stateOf];
    if (state === undefined) return;
    tracker.requestFinished(state.connection);
    // The last stream of a session waiting for its PING's ACK: nghttp2 stops reading now, so the
    // ACK will not be read. Close now.
    if (state.phase === NOTICE && state.connection.inFlight === 0) final(state);
  };

  return {
    sessionOpened(session: ServerHttp2Session & WithState, handedOver: Socket | undefined): void {
      if (session[stateOf] !== undefined) return;
      // The socket's own record, if it has one yet: an https socket is tracked from its TCP
      // connection on (and its TLS socket carries the record too); an h2c socket is tracked only
      // after the server's listeners, which open the session. The session's socket proxy forwards
      // property reads and writes to the socket.
      const proxy = session.socket as (Socket & Tagged) | undefined;
      const previous = proxy?.[connectionOf];
      const carrier = previous?.raw as (TlsCarrier & Tagged) | undefined;
      const socket = (carrier?.[tlsSocketOf] ?? carrier ?? handedOver) as (Socket & Tagged) | undefined;
      const connection = tracker.socketOpened(session, closer);
      const state: SessionState = { session, socket, connection, phase: SERVING, timer: undefined, release: false };
      session[stateOf] = state;
      // From now on the socket's (and, under TLS, its TCP socket's) close closes the session's
      // record, and the adapter does not track the socket by itself. The socket's own record is
      // done after the session's is open, so that a drain never sees a moment with neither.
      if (proxy !== undefined) proxy[connectionOf] = connection;
      if (carrier !== undefined) carrier[connectionOf] = connection;
      if (previous !== undefined) tracker.connectionClosed(previous);
      open.add(state);
      // 'close' comes once: a plain listener, no once() wrapper per session (likewise per stream).
      session.on('close', onSessionClose);
      if (goingAway) notice(state);
    },
    streamOpened(stream: ServerHttp2Stream & WithState): void {
      const state = (stream.session as (ServerHttp2Session & WithState) | undefined)?.[stateOf];
      if (state === undefined || stream[stateOf] !== undefined) return;
      stream[stateOf] = state;
      tracker.requestStarted(state.connection);
      stream.on('close', onStreamClose);
    },
    goAway(): void {
      if (goingAway) return;
      goingAway = true;
      for (const state of open) notice(state);
    },
    get size(): number {
      return open.size;
    },
  };
}
