import { type Clock, type TimerHandle, systemClock } from '@quiesce/core';
import { DrainOptionError, check } from './errors.ts';

/**
 * Why the server stops, as its clients are told: `shutdown` (it goes away) or `restart` (a new
 * process takes over: a hot restart, a `quiesce run` roll).
 */
export type ShutdownReason = 'shutdown' | 'restart';

/** Close code 1001, Going Away: the server goes down (RFC 6455 §7.4.1). */
export const WEBSOCKET_GOING_AWAY = 1001;
/** Close code 1012, Service Restart: the server restarts; reconnect (IANA WebSocket close codes). */
export const WEBSOCKET_SERVICE_RESTART = 1012;

/**
 * The close code a WebSocket gets when the server stops for `reason`: 1001 (Going Away) for a
 * shutdown, 1012 (Service Restart) for a restart. Anything but `restart` counts as a shutdown.
 *
 * @example
 * ```ts
 * webSocketCloseCode('restart'); // 1012
 * ```
 */
export function webSocketCloseCode(reason: ShutdownReason | undefined): 1001 | 1012 {
  return reason === 'restart' ? WEBSOCKET_SERVICE_RESTART : WEBSOCKET_GOING_AWAY;
}

/**
 * How one kind of WebSocket is closed, given the runtime's object for it: one closer shared by every
 * WebSocket of that kind (`ws`'s `WebSocket`, Bun's `ServerWebSocket`, Deno's `WebSocket`).
 */
export interface WebSocketCloser<WebSocket> {
  /** Sends a Close frame with `code` and `reason`: the close handshake begins. */
  close(ws: WebSocket, code: number, reason: string): void;
  /**
   * Ends the connection now with FIN: the peer did not answer the Close frame in time. Leave it out
   * where closing already ends the connection (Bun) or where the runtime ends it together with the
   * listener (Deno's `shutdown()`).
   */
  end?(ws: WebSocket): void;
}

/** Options for {@link WebSocketFarewell}. */
export interface WebSocketFarewellOptions {
  /**
   * How long the close handshake is awaited: a WebSocket whose peer has not answered the Close
   * frame this long after it was sent is ended with FIN. The deadline ends the wait earlier; what
   * is open then is destroyed by the drain. Default 1000.
   */
  closeTimeoutMs?: number;
  /** Time source. Default `systemClock`. */
  clock?: Clock;
}

/** Options for {@link WebSocketFarewell.closeAll}. */
export interface CloseAllOptions {
  /** `restart` sends 1012 (Service Restart); anything else 1001 (Going Away). */
  readonly reason?: ShutdownReason;
  /** The deadline: the wait ends when it aborts (the drain then destroys what is left). */
  readonly signal?: AbortSignal;
}

/** What {@link WebSocketFarewell.closeAll} did. */
export interface FarewellResult {
  /** WebSockets sent a Close frame. */
  readonly told: number;
  /** Of those, still open `closeTimeoutMs` after their Close frame: ended with FIN (by the closer's `end`, or the runtime's listener close). */
  readonly unanswered: number;
}

const CLOSE_REASONS: Readonly<Record<ShutdownReason, string>> = { shutdown: 'server shutting down', restart: 'server restarting' };

/**
 * The WebSockets of one server and the one way they are told the server stops: every open one gets a
 * Close frame (1001 Going Away, or 1012 Service Restart for a restart), the close handshake is
 * awaited up to `closeTimeoutMs`, then those whose peer did not answer are ended with FIN. What is
 * still open at the deadline is the drain's to destroy (and to count as cut). A WebSocket that opens
 * after the farewell began is closed at once, the same way. Adapters record each WebSocket with
 * {@link WebSocketFarewell.opened} and {@link WebSocketFarewell.closed}; a Map entry per WebSocket,
 * nothing per request.
 *
 * @example
 * ```ts
 * const farewell = new WebSocketFarewell({ closeTimeoutMs: 1_000 });
 * const closer = { close: (ws: WebSocket, code: number, why: string) => ws.close(code, why) };
 * wss.on('connection', (ws) => {
 *   farewell.opened(ws, closer);
 *   ws.once('close', () => farewell.closed(ws));
 * });
 * // when the listener has closed:
 * await farewell.closeAll({ reason: 'shutdown', signal: deadline });
 * ```
 */
export class WebSocketFarewell {
  readonly #closeTimeoutMs: number;
  readonly #clock: Clock;
  readonly #open = new Map<unknown, WebSocketCloser<unknown>>();
  #reason: ShutdownReason | undefined;
  #told = 0;
  #unanswered = 0;
  #running: Promise<FarewellResult> | undefined;
  #allClosed: (() => void) | undefined;

  constructor(options: WebSocketFarewellOptions = {}) {
    check.object('options', options);
    const { closeTimeoutMs = 1_000, clock = systemClock } = options;
    check.duration('closeTimeoutMs', closeTimeoutMs);
    check.clock('clock', clock);
    this.#closeTimeoutMs = closeTimeoutMs;
    this.#clock = clock;
  }

  /** WebSockets open now. */
  get open(): number {
    return this.#open.size;
  }

  /** True from {@link WebSocketFarewell.closeAll} on: new WebSockets are closed as they open. */
  get closing(): boolean {
    return this.#reason !== undefined;
  }

  /**
   * Records an open WebSocket and the closer of its kind. After {@link WebSocketFarewell.closeAll}
   * began, it is sent its Close frame at once. A closer without `close` throws a `DrainOptionError`.
   */
  opened<WebSocket>(ws: WebSocket, closer: WebSocketCloser<WebSocket>): void {
    if (closer === null || typeof closer !== 'object' || typeof closer.close !== 'function') {
      throw new DrainOptionError('closer', closer, 'an object with close(ws, code, reason), which sends a Close frame');
    }
    this.#open.set(ws, closer as WebSocketCloser<unknown>);
    if (this.#reason !== undefined) this.#tell(ws, closer as WebSocketCloser<unknown>);
  }

  /** Records that a WebSocket closed (either side, or destroyed). Idempotent; unknown ones are ignored. */
  closed(ws: unknown): void {
    if (!this.#open.delete(ws)) return;
    if (this.#open.size === 0) this.#allClosed?.();
  }

  /**
   * Sends every open WebSocket a Close frame with the code for `reason`, then resolves once every
   * one has closed, or `closeTimeoutMs` after the frames went out (the peers that did not answer are
   * ended with FIN first), or when `signal` aborts, whichever comes first. Idempotent: later calls
   * return the first call's promise. Never rejects; a closer that throws counts as told.
   */
  closeAll(options: CloseAllOptions = {}): Promise<FarewellResult> {
    if (this.#running) return this.#running;
    const { reason = 'shutdown', signal } = options;
    if (signal !== undefined) check.signal('signal', signal);
    this.#reason = reason === 'restart' ? 'restart' : 'shutdown';
    for (const [ws, closer] of [...this.#open]) this.#tell(ws, closer);
    this.#running = this.#wait(signal);
    return this.#running;
  }

  #tell(ws: unknown, closer: WebSocketCloser<unknown>): void {
    this.#told++;
    const reason = this.#reason ?? 'shutdown';
    try {
      closer.close(ws, webSocketCloseCode(reason), CLOSE_REASONS[reason]);
    } catch {
      // A socket that is already gone: its close is reported, or the drain destroys it.
    }
  }

  async #wait(signal: AbortSignal | undefined): Promise<FarewellResult> {
    if (this.#open.size > 0 && !signal?.aborted) {
      let timer: TimerHandle | undefined;
      let onAbort: (() => void) | undefined;
      const timedOut = await new Promise<boolean>((resolve) => {
        this.#allClosed = () => resolve(false);
        onAbort = () => resolve(false);
        signal?.addEventListener('abort', onAbort, { once: true });
        timer = this.#clock.setTimeout(() => resolve(true), this.#closeTimeoutMs);
      });
      this.#allClosed = undefined;
      this.#clock.clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      if (timedOut) this.#endUnanswered();
    }
    return { told: this.#told, unanswered: this.#unanswered };
  }

  /** The handshake's time is up: FIN for every WebSocket still open (the runtime's, where its kind has no `end`). */
  #endUnanswered(): void {
    for (const [ws, closer] of [...this.#open]) {
      this.#unanswered++;
      if (typeof closer.end !== 'function') continue;
      try {
        closer.end(ws);
      } catch {
        // Gone meanwhile.
      }
    }
  }
}
