import { type Clock, systemClock } from '@quiesce/core';
import type { ConnectionHandle, SocketCloser, TrackedConnection, TrackedRequest } from './connection-handle.ts';
import type { DrainReport } from './drain-report.ts';
import { DrainOptionError, check } from './errors.ts';
import { ActivityBatches } from './internal/activity-batches.ts';
import { Backoff } from './internal/backoff.ts';
import { CONFIRM_MS } from './internal/confirm-delay.ts';
import { ConnectionList } from './internal/connection-list.ts';
import { CLOSE_REQUESTED, ConnectionRecord, GONE, IDLE_SEEN, UPGRADED, handleCloser, wholeMs } from './internal/connection-record.ts';

/**
 * Where a tracker is in its life: `serving`; `closing` from the signal on (every response carries
 * `Connection: close`, idle connections stay open: the lame duck); `draining` once the listener is
 * closed; then `drained` or `forced`.
 */
export type DrainState = 'serving' | 'closing' | 'draining' | 'drained' | 'forced';

/** Options for {@link ConnectionTracker}. */
export interface ConnectionTrackerOptions {
  /**
   * While draining, a keep-alive connection with no request in flight is closed (FIN) once it has
   * been idle this long, so a client that is about to reuse it gets its answer instead of a reset.
   * Activity before shutdown is timed in batches, so such a connection may close up to half the
   * shortest grace (at most 50 ms) later than that, never earlier. Default 250.
   */
  idleGraceMs?: number;
  /** The same for connections that never sent a request (browser preconnects). Default 100. */
  preconnectGraceMs?: number;
  /** First poll interval while draining; it doubles up to `pollMaxMs`. Default 5. */
  pollMinMs?: number;
  /** Longest poll interval while draining. Default 500. */
  pollMaxMs?: number;
  /** Time source. Default `systemClock`. */
  clock?: Clock;
  /**
   * Called at the deadline after every tracked connection was destroyed: adapters of runtimes that
   * do not expose connections (Bun, Deno) close the server here.
   */
  onForce?: () => void;
}

/** Options for {@link ConnectionTracker.drain}. */
export interface DrainOptions {
  /** The deadline: when it aborts, every remaining connection is destroyed. */
  signal?: AbortSignal;
}

/** Counts at one moment, for readiness pages, logs and tests. */
export interface TrackerStats {
  readonly state: DrainState;
  readonly connections: number;
  readonly idle: number;
  readonly upgraded: number;
  readonly inFlight: number;
}

interface RequestRecord extends TrackedRequest {
  done: boolean;
  /** Counted in its connection's `inFlight` (else in the tracker's set of requests). */
  onConnection: boolean;
}

/**
 * Runtime-neutral accounting of connections and requests, and the drain policy that adapters drive:
 * lame duck (answer everything with `Connection: close`, keep idle sockets open), then drain (let
 * in-flight requests finish, close idle connections after a grace with FIN, never touch upgraded
 * ones), then force-close whatever is left at the deadline. No runtime API is used here: adapters
 * report events and provide a {@link ConnectionHandle} per connection, or the runtime's socket and
 * a closer shared by all sockets ({@link ConnectionTracker.socketOpened}). Serving costs little
 * per request: activity before shutdown is timed in batches, not with a clock reading each.
 *
 * @example
 * ```ts
 * const tracker = new ConnectionTracker({ idleGraceMs: 250 });
 * server.on('connection', (socket) => {
 *   const conn = tracker.connectionOpened({ close: () => socket.end(), destroy: () => socket.destroy() });
 *   socket.on('close', () => tracker.connectionClosed(conn));
 * });
 * // on SIGTERM:
 * tracker.beginShutdown();
 * const report = await tracker.drain({ signal: AbortSignal.timeout(10_000) });
 * ```
 */
export class ConnectionTracker {
  readonly #clock: Clock;
  readonly #idleGraceMs: number;
  readonly #preconnectGraceMs: number;
  readonly #pollMinMs: number;
  readonly #pollMaxMs: number;
  readonly #onForce: (() => void) | undefined;
  /** While serving, connection activity is stamped in batches rather than at each request. */
  readonly #activity: ActivityBatches;
  readonly #connections = new ConnectionList();
  /** Requests in flight that are not counted on a connection (see {@link RequestRecord.onConnection}). */
  readonly #requests = new Set<RequestRecord>();
  /** Requests in flight counted on their connections: the sum of their `inFlight`. */
  #onConnections = 0;
  /** Requests in flight recorded with {@link ConnectionTracker.beginRequest}. */
  #loose = 0;
  readonly #pending = new Set<object>();
  readonly #closingListeners: ((open: readonly TrackedConnection[]) => void)[] = [];
  #nextId = 1;
  #state: DrainState = 'serving';
  #completedSinceShutdown = 0;
  #wake: (() => void) | undefined;
  #draining: Promise<DrainReport> | undefined;

  constructor(options: ConnectionTrackerOptions = {}) {
    check.object('options', options);
    const { idleGraceMs = 250, preconnectGraceMs = 100, pollMinMs = 5, pollMaxMs = 500, clock = systemClock, onForce } = options;
    check.duration('idleGraceMs', idleGraceMs);
    check.duration('preconnectGraceMs', preconnectGraceMs);
    check.duration('pollMinMs', pollMinMs);
    check.duration('pollMaxMs', pollMaxMs);
    if (pollMinMs < 1) throw new DrainOptionError('pollMinMs', pollMinMs, 'at least 1 ms (a drain never busy-loops)');
    if (pollMaxMs < pollMinMs) throw new DrainOptionError('pollMaxMs', pollMaxMs, `at least pollMinMs (${pollMinMs})`);
    check.clock('clock', clock);
    if (onForce !== undefined) check.function('onForce', onForce);
    this.#clock = clock;
    this.#idleGraceMs = idleGraceMs;
    this.#preconnectGraceMs = preconnectGraceMs;
    this.#pollMinMs = pollMinMs;
    this.#pollMaxMs = pollMaxMs;
    this.#onForce = onForce;
    // An idle connection closes at most a batch late: at most half the shortest grace, and 50 ms.
    const batchMs = Math.max(1, Math.min(50, Math.floor(Math.min(idleGraceMs, preconnectGraceMs) / 2)));
    this.#activity = new ActivityBatches(clock, batchMs);
  }

  /** The current state; see {@link DrainState}. */
  get state(): DrainState {
    return this.#state;
  }

  /** True from {@link ConnectionTracker.beginShutdown} on: every response must carry `Connection: close`. */
  get closing(): boolean {
    return this.#state !== 'serving';
  }

  /** Records a new connection. Connections accepted after the drain ended are destroyed at once. */
  connectionOpened(handle: ConnectionHandle): TrackedConnection {
    if (!handle || typeof handle.close !== 'function' || typeof handle.destroy !== 'function') {
      throw new DrainOptionError('handle', handle, 'an object with close() and destroy()');
    }
    return this.#open(handle, handleCloser as SocketCloser<unknown>);
  }

  /**
   * Records a new connection given its runtime socket and the {@link SocketCloser} shared by every
   * socket of its kind: the same as {@link ConnectionTracker.connectionOpened}, without a handle
   * and closures per connection. `raw` of the returned connection is `socket`. Connections accepted
   * after the drain ended are destroyed at once; a closer without `close` and `destroy` throws a
   * {@link DrainOptionError}.
   *
   * @example
   * ```ts
   * const closer = { close: (s: Socket) => s.end(), destroy: (s: Socket) => s.destroy(), bytesRead: (s: Socket) => s.bytesRead };
   * server.on('connection', (socket) => {
   *   const conn = tracker.socketOpened(socket, closer);
   *   socket.on('close', () => tracker.connectionClosed(conn));
   * });
   * ```
   */
  socketOpened<Socket>(socket: Socket, closer: SocketCloser<Socket>): TrackedConnection {
    if (!closer || typeof closer.close !== 'function' || typeof closer.destroy !== 'function') {
      throw new DrainOptionError('closer', closer, 'an object with close(socket) and destroy(socket)');
    }
    return this.#open(socket, closer as SocketCloser<unknown>);
  }

  /** Records that a connection is gone (closed by either side). Idempotent; ignores what is not a connection of a tracker. */
  connectionClosed(connection: TrackedConnection): void {
    const record = connection;
    if (!(record instanceof ConnectionRecord) || (record.flags & GONE) !== 0) return;
    this.#remove(record);
    this.#poke();
  }

  /** Marks a connection as upgraded: it is no longer HTTP, never idle, and is destroyed only at the deadline. */
  connectionUpgraded(connection: TrackedConnection): void {
    const record = connection;
    if (!(record instanceof ConnectionRecord)) return;
    record.flags |= UPGRADED;
    this.#dropRequests(record);
  }

  /** Records a request; pass the connection when the runtime exposes it. */
  requestStarted(connection?: TrackedConnection): TrackedRequest {
    const record = connection;
    const startedAt = this.#clock.now();
    const onConnection = record instanceof ConnectionRecord && (record.flags & (GONE | UPGRADED)) === 0;
    const request: RequestRecord = { connection: record, startedAt, done: false, onConnection };
    if (onConnection) this.#started(record as ConnectionRecord);
    else this.#requests.add(request);
    return request;
  }

  /** Records that a request's response was sent or abandoned. Idempotent. */
  requestFinished(request: TrackedRequest): void {
    this.#finish(request as RequestRecord);
    this.#poke();
  }

  /**
   * Records a request on `connection` without a request object, for adapters that see exactly one
   * end for each start (a response's `close` event): call {@link ConnectionTracker.requestFinishedOn}
   * once for each call. Costs no allocation. Ignored on a connection that is closed or upgraded.
   *
   * @example
   * ```ts
   * tracker.requestStartedOn(conn);
   * res.once('close', () => tracker.requestFinishedOn(conn));
   * ```
   */
  requestStartedOn(connection: TrackedConnection): void {
    const record = connection;
    // No clock reading: a connection with a request in flight is never idle, and the request's end sets the time.
    if (record instanceof ConnectionRecord && (record.flags & (GONE | UPGRADED)) === 0) this.#started(record);
  }

  /**
   * Records that one of the requests reported with {@link ConnectionTracker.requestStartedOn} on
   * `connection` was answered or abandoned. Ignored once the connection is closed or upgraded (its
   * requests ended then).
   *
   * @example
   * ```ts
   * res.once('close', () => tracker.requestFinishedOn(conn));
   * ```
   */
  requestFinishedOn(connection: TrackedConnection): void {
    const record = connection;
    if (!(record instanceof ConnectionRecord) || (record.flags & (GONE | UPGRADED)) !== 0 || record.inFlight === 0) return;
    this.#finished(record);
    this.#poke();
  }

  /**
   * Records a request that has neither a request object nor a connection, for adapters of runtimes
   * that expose no connections (Bun, Deno) and see exactly one end for each start: call
   * {@link ConnectionTracker.endRequest} once for each call. Costs no allocation and no clock
   * reading, so it suits the path every request takes.
   *
   * @example
   * ```ts
   * tracker.beginRequest();
   * try {
   *   return await handler(request);
   * } finally {
   *   tracker.endRequest();
   * }
   * ```
   */
  beginRequest(): void {
    this.#loose++;
  }

  /**
   * Records that one of the requests reported with {@link ConnectionTracker.beginRequest} was
   * answered or abandoned. Ignored when none is in flight (at the deadline they were cut).
   *
   * @example
   * ```ts
   * tracker.endRequest();
   * ```
   */
  endRequest(): void {
    if (this.#loose === 0) return;
    this.#loose--;
    if (this.#state !== 'serving') this.#completedSinceShutdown++;
    this.#poke();
  }

  /**
   * Makes the drain also wait for `work` that is neither a request nor a connection, such as a
   * runtime flushing responses it has already been handed (Deno's `server.finished`). It is not
   * counted in the report; at the deadline it is abandoned.
   */
  waitFor(work: PromiseLike<unknown>): void {
    if (!work || typeof (work as PromiseLike<unknown>).then !== 'function') {
      throw new DrainOptionError('work', work, 'a promise');
    }
    const token = {};
    this.#pending.add(token);
    const done = (): void => {
      this.#pending.delete(token);
      this.#poke();
    };
    work.then(done, done);
  }

  /**
   * Calls `listener` once, synchronously, when shutdown begins (at once if it already has), with the
   * connections open at that moment, so that an adapter can switch the responses in flight to
   * `Connection: close` then instead of preparing every response for it. Returns a function that
   * removes the listener. A listener that throws does not keep the others from running;
   * {@link ConnectionTracker.beginShutdown} rethrows the first error. A non-function throws a
   * {@link DrainOptionError}.
   *
   * @example
   * ```ts
   * const off = tracker.onClosing((open) => {
   *   for (const conn of open) if (conn.inFlight > 0) markClosing(conn.raw);
   * });
   * ```
   */
  onClosing(listener: (open: readonly TrackedConnection[]) => void): () => void {
    if (typeof listener !== 'function') throw new DrainOptionError('listener', listener, 'a function');
    if (this.#state !== 'serving') {
      listener(this.#connections.toArray());
      return () => {};
    }
    this.#closingListeners.push(listener);
    return () => {
      const index = this.#closingListeners.indexOf(listener);
      if (index >= 0) this.#closingListeners.splice(index, 1);
    };
  }

  /**
   * Starts shutdown: from now on {@link ConnectionTracker.closing} is true so adapters add
   * `Connection: close`; idle connections stay open (the lame duck). Idempotent.
   */
  beginShutdown(): void {
    if (this.#state !== 'serving') return;
    // From now on idle times matter: stamp the activity noted so far, and read the clock at each event.
    this.#activity.settle();
    this.#state = 'closing';
    const listeners = this.#closingListeners.splice(0);
    if (listeners.length === 0) return;
    const open = this.#connections.toArray();
    let failure: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        listener(open);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** The runtime sockets of upgraded connections, for a hook that closes them (WebSocket 1001). */
  upgradedConnections(): unknown[] {
    const sockets: unknown[] = [];
    this.#connections.forEach((c) => {
      if ((c.flags & UPGRADED) !== 0) sockets.push(c.raw);
    });
    return sockets;
  }

  /** Counts at this moment. */
  stats(): TrackerStats {
    let idle = 0;
    let upgraded = 0;
    this.#connections.forEach((c) => {
      if ((c.flags & UPGRADED) !== 0) upgraded++;
      else if (c.inFlight === 0) idle++;
    });
    return { state: this.#state, connections: this.#connections.size, idle, upgraded, inFlight: this.#inFlight() };
  }

  /**
   * Drains: waits for in-flight requests, closes connections that stay idle past the grace (FIN),
   * and resolves as soon as nothing is left. When `signal` aborts (the deadline), destroys every
   * remaining connection, upgraded ones included, and resolves with outcome `forced`. Polls with
   * backoff and wakes early on every request end or connection close. Idempotent.
   */
  drain(options: DrainOptions = {}): Promise<DrainReport> {
    if (this.#draining) return this.#draining;
    const { signal } = options;
    if (signal !== undefined) check.signal('signal', signal);
    this.beginShutdown();
    this.#state = 'draining';
    this.#draining = this.#runDrain(signal);
    return this.#draining;
  }

  /** Destroys every connection now (an immediate stop). Returns how many were destroyed. */
  forceClose(): number {
    const records = this.#connections.toArray();
    for (const record of records) {
      record.closer.destroy(record.target);
      this.connectionClosed(record);
    }
    this.#onForce?.();
    return records.length;
  }

  #open(target: unknown, closer: SocketCloser<unknown>): ConnectionRecord {
    const record = new ConnectionRecord(this.#nextId++, target, closer);
    if (this.#state === 'drained' || this.#state === 'forced') {
      record.flags = GONE;
      closer.destroy(target);
      return record;
    }
    this.#connections.add(record);
    this.#active(record);
    return record;
  }

  #remove(record: ConnectionRecord): void {
    record.flags |= GONE;
    this.#connections.remove(record);
    this.#dropRequests(record);
  }

  /** The connection opened or finished a request: noted for the next batch while serving, else stamped now. */
  #active(record: ConnectionRecord): void {
    if (this.#state === 'serving') {
      this.#activity.note(record);
    } else {
      record.lastActivity = wholeMs(this.#clock.now());
      record.lastBytes = record.bytesRead();
    }
  }

  #inFlight(): number {
    return this.#requests.size + this.#onConnections + this.#loose;
  }

  #started(record: ConnectionRecord): void {
    record.inFlight++;
    record.requests++;
    record.flags &= ~IDLE_SEEN;
    this.#onConnections++;
  }

  #finished(record: ConnectionRecord): void {
    record.inFlight--;
    this.#onConnections--;
    if (this.#state !== 'serving') this.#completedSinceShutdown++;
    record.flags &= ~IDLE_SEEN;
    this.#active(record);
  }

  #finish(request: RequestRecord): void {
    if (request.done) return;
    request.done = true;
    if (request.onConnection) {
      const record = request.connection as ConnectionRecord;
      // A closed or upgraded connection ended its requests already.
      if ((record.flags & (GONE | UPGRADED)) === 0 && record.inFlight > 0) this.#finished(record);
      return;
    }
    this.#requests.delete(request);
    if (this.#state !== 'serving') this.#completedSinceShutdown++;
  }

  /** Ends the requests in flight on a connection that closed or was upgraded; they count as completed. */
  #dropRequests(record: ConnectionRecord): void {
    if (record.inFlight === 0) return;
    this.#onConnections -= record.inFlight;
    if (this.#state !== 'serving') this.#completedSinceShutdown += record.inFlight;
    record.inFlight = 0;
  }

  /** No connection, no request in flight and no awaited work: a drain is done. */
  #nothingLeft(): boolean {
    return this.#connections.size === 0 && this.#inFlight() === 0 && this.#pending.size === 0;
  }

  #poke(): void {
    this.#wake?.();
  }

  #runDrain(signal: AbortSignal | undefined): Promise<DrainReport> {
    const clock = this.#clock;
    const startedAt = clock.now();
    const inFlightAtStart = this.#inFlight();
    const completedBefore = this.#completedSinceShutdown;
    const upgradedAtStart = this.stats().upgraded;
    const backoff = new Backoff(this.#pollMinMs, this.#pollMaxMs);
    let idleClosed = 0;
    let preconnectsClosed = 0;
    let checks = 0;

    return new Promise<DrainReport>((resolve) => {
      let timer: unknown;
      let timerDue = Number.POSITIVE_INFINITY;
      let finished = false;

      const report = (outcome: DrainReport['outcome'], cut: { requests: number; connections: number; upgraded: number }): DrainReport => ({
        outcome,
        durationMs: clock.now() - startedAt,
        inFlightAtStart,
        requestsCompleted: this.#completedSinceShutdown - completedBefore - cut.requests,
        requestsCut: cut.requests,
        idleClosed,
        preconnectsClosed,
        forceClosed: cut.connections,
        upgradedAtStart,
        upgradedForceClosed: cut.upgraded,
        checks,
      });

      const end = (outcome: DrainReport['outcome'], cut = { requests: 0, connections: 0, upgraded: 0 }): void => {
        if (finished) return;
        finished = true;
        this.#wake = undefined;
        if (timer !== undefined) clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onDeadline);
        this.#state = outcome;
        resolve(report(outcome, cut));
      };

      const onDeadline = (): void => {
        const cut = { requests: this.#inFlight(), connections: this.#connections.size, upgraded: this.stats().upgraded };
        for (const record of this.#connections.toArray()) {
          record.closer.destroy(record.target);
          if ((record.flags & GONE) === 0) this.#remove(record);
        }
        for (const request of [...this.#requests]) this.#finish(request);
        // Cut like the others: counted as ended here, and taken out of the completed ones by `cut`.
        this.#completedSinceShutdown += this.#loose;
        this.#loose = 0;
        this.#pending.clear();
        this.#onForce?.();
        end('forced', cut);
      };

      const check = (): void => {
        timer = undefined;
        timerDue = Number.POSITIVE_INFINITY;
        if (finished) return;
        checks++;
        const now = clock.now();
        let nextDue = Number.POSITIVE_INFINITY;
        this.#connections.forEach((record) => {
          if ((record.flags & (UPGRADED | CLOSE_REQUESTED)) !== 0 || record.inFlight > 0) return;
          const bytes = record.bytesRead();
          if (bytes !== record.lastBytes) {
            // Bytes of a request the server has not parsed yet: not idle.
            record.lastBytes = bytes;
            record.lastActivity = wholeMs(now);
            record.flags &= ~IDLE_SEEN;
          }
          const grace = record.requests === 0 ? this.#preconnectGraceMs : this.#idleGraceMs;
          const idleFor = now - record.lastActivity;
          if (idleFor < grace) {
            nextDue = Math.min(nextDue, grace - idleFor);
          } else if ((record.flags & IDLE_SEEN) === 0) {
            // Idle past the grace, but confirm at the next check: if the event loop was held up, a
            // request may be waiting unread in the socket, and the I/O between two checks reads it
            // (CONFIRM_MS, not pollMinMs: the confirmation adds 1 ms to a shutdown, not 5).
            record.flags |= IDLE_SEEN;
            nextDue = Math.min(nextDue, CONFIRM_MS);
          } else {
            record.flags |= CLOSE_REQUESTED;
            if (record.requests === 0) preconnectsClosed++;
            else idleClosed++;
            // Closed for good on return: forget it now, not when the runtime reports the close.
            if (record.closer.close(record.target) === true) this.#remove(record);
          }
        });
        if (this.#nothingLeft()) {
          end('drained');
          return;
        }
        schedule(Math.min(backoff.next(), nextDue));
      };

      const schedule = (ms: number): void => {
        if (finished) return;
        const delay = Math.max(0, Math.ceil(ms));
        const due = clock.now() + delay;
        if (timer !== undefined && timerDue <= due) return;
        if (timer !== undefined) clock.clearTimeout(timer);
        timerDue = due;
        timer = clock.setTimeout(check, delay);
      };

      // Request ends and closes wake the drain at once, so exit follows the last response closely.
      this.#wake = (): void => {
        if (finished) return;
        // The last connection, request or awaited work just went: nothing is left to look at, so
        // end now rather than one timer hop later (about 1 ms on Node, on every shutdown).
        if (this.#nothingLeft()) {
          end('drained');
          return;
        }
        backoff.reset();
        schedule(0);
      };

      if (signal?.aborted) {
        onDeadline();
        return;
      }
      signal?.addEventListener('abort', onDeadline, { once: true });
      check();
    });
  }
}
