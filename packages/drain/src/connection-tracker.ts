import { type Clock, systemClock } from '@quiesce/hooks';
import type { ConnectionHandle, TrackedConnection, TrackedRequest } from './connection-handle.ts';
import type { DrainReport } from './drain-report.ts';
import { DrainOptionError, assertDuration } from './errors.ts';
import { Backoff } from './internal/backoff.ts';

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
   * Default 250.
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

interface ConnectionRecord extends TrackedConnection {
  readonly id: number;
  readonly raw: unknown;
  readonly handle: ConnectionHandle;
  upgraded: boolean;
  inFlight: number;
  requests: number;
  lastActivity: number;
  lastBytes: number;
  closeRequested: boolean;
  /** The check at which the connection was first found idle past its grace, or 0. */
  idleAtCheck: number;
  /** Its requests in flight (allocated on the first request), so a close never scans them all. */
  open: RequestRecord[] | undefined;
}

interface RequestRecord extends TrackedRequest {
  readonly connection: ConnectionRecord | undefined;
  done: boolean;
}

/**
 * Runtime-neutral accounting of connections and requests, and the drain policy that adapters drive:
 * lame duck (answer everything with `Connection: close`, keep idle sockets open), then drain (let
 * in-flight requests finish, close idle connections after a grace with FIN, never touch upgraded
 * ones), then force-close whatever is left at the deadline. No runtime API is used here: adapters
 * report events and provide a {@link ConnectionHandle} per connection.
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
  readonly #connections = new Set<ConnectionRecord>();
  readonly #requests = new Set<RequestRecord>();
  readonly #pending = new Set<object>();
  #nextId = 1;
  #state: DrainState = 'serving';
  #completedSinceShutdown = 0;
  #wake: (() => void) | undefined;
  #draining: Promise<DrainReport> | undefined;

  constructor(options: ConnectionTrackerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new DrainOptionError('options', options, 'an object');
    const { idleGraceMs = 250, preconnectGraceMs = 100, pollMinMs = 5, pollMaxMs = 500, clock = systemClock, onForce } = options;
    assertDuration('idleGraceMs', idleGraceMs);
    assertDuration('preconnectGraceMs', preconnectGraceMs);
    assertDuration('pollMinMs', pollMinMs);
    assertDuration('pollMaxMs', pollMaxMs);
    if (pollMinMs < 1) throw new DrainOptionError('pollMinMs', pollMinMs, 'at least 1 ms (a drain never busy-loops)');
    if (pollMaxMs < pollMinMs) throw new DrainOptionError('pollMaxMs', pollMaxMs, `at least pollMinMs (${pollMinMs})`);
    if (!clock || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function') {
      throw new DrainOptionError('clock', clock, 'a Clock with now(), setTimeout() and clearTimeout()');
    }
    if (onForce !== undefined && typeof onForce !== 'function') throw new DrainOptionError('onForce', onForce, 'a function');
    this.#clock = clock;
    this.#idleGraceMs = idleGraceMs;
    this.#preconnectGraceMs = preconnectGraceMs;
    this.#pollMinMs = pollMinMs;
    this.#pollMaxMs = pollMaxMs;
    this.#onForce = onForce;
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
    const now = this.#clock.now();
    const record: ConnectionRecord = {
      id: this.#nextId++,
      raw: handle.raw,
      handle,
      upgraded: false,
      inFlight: 0,
      requests: 0,
      lastActivity: now,
      lastBytes: readBytes(handle),
      closeRequested: false,
      idleAtCheck: 0,
      open: undefined,
    };
    if (this.#state === 'drained' || this.#state === 'forced') {
      handle.destroy();
      return record;
    }
    this.#connections.add(record);
    return record;
  }

  /** Records that a connection is gone (closed by either side). Idempotent. */
  connectionClosed(connection: TrackedConnection): void {
    const record = connection as ConnectionRecord;
    if (!this.#connections.delete(record)) return;
    this.#finishAll(record);
    this.#poke();
  }

  /** Marks a connection as upgraded: it is no longer HTTP, never idle, and is destroyed only at the deadline. */
  connectionUpgraded(connection: TrackedConnection): void {
    const record = connection as ConnectionRecord;
    record.upgraded = true;
    this.#finishAll(record);
  }

  /** Records a request; pass the connection when the runtime exposes it. */
  requestStarted(connection?: TrackedConnection): TrackedRequest {
    const record = connection as ConnectionRecord | undefined;
    const request: RequestRecord = { connection: record, startedAt: this.#clock.now(), done: false };
    if (record) {
      record.inFlight++;
      record.requests++;
      record.lastActivity = request.startedAt;
      record.idleAtCheck = 0;
      if (record.open) record.open.push(request);
      else record.open = [request];
    }
    this.#requests.add(request);
    return request;
  }

  /** Records that a request's response was sent or abandoned. Idempotent. */
  requestFinished(request: TrackedRequest): void {
    this.#finish(request as RequestRecord);
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
   * Starts shutdown: from now on {@link ConnectionTracker.closing} is true so adapters add
   * `Connection: close`; idle connections stay open (the lame duck). Idempotent.
   */
  beginShutdown(): void {
    if (this.#state === 'serving') this.#state = 'closing';
  }

  /** The runtime sockets of upgraded connections, for a hook that closes them (WebSocket 1001). */
  upgradedConnections(): unknown[] {
    return [...this.#connections].filter((c) => c.upgraded).map((c) => c.raw);
  }

  /** Counts at this moment. */
  stats(): TrackerStats {
    let idle = 0;
    let upgraded = 0;
    for (const c of this.#connections) {
      if (c.upgraded) upgraded++;
      else if (c.inFlight === 0) idle++;
    }
    return { state: this.#state, connections: this.#connections.size, idle, upgraded, inFlight: this.#requests.size };
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
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new DrainOptionError('signal', signal, 'an AbortSignal');
    this.beginShutdown();
    this.#state = 'draining';
    this.#draining = this.#runDrain(signal);
    return this.#draining;
  }

  /** Destroys every connection now (an immediate stop). Returns how many were destroyed. */
  forceClose(): number {
    const count = this.#connections.size;
    for (const record of [...this.#connections]) {
      record.handle.destroy();
      this.connectionClosed(record);
    }
    this.#onForce?.();
    return count;
  }

  #finish(request: RequestRecord): void {
    if (request.done) return;
    request.done = true;
    this.#requests.delete(request);
    if (this.#state !== 'serving') this.#completedSinceShutdown++;
    const record = request.connection;
    if (record) {
      const index = record.open?.indexOf(request) ?? -1;
      if (index >= 0) record.open!.splice(index, 1);
      record.inFlight = Math.max(0, record.inFlight - 1);
      record.lastActivity = this.#clock.now();
      record.lastBytes = readBytes(record.handle);
      record.idleAtCheck = 0;
    }
  }

  #finishAll(record: ConnectionRecord): void {
    if (!record.open || record.open.length === 0) return;
    for (const request of [...record.open]) this.#finish(request);
  }

  #poke(): void {
    this.#wake?.();
  }

  #runDrain(signal: AbortSignal | undefined): Promise<DrainReport> {
    const clock = this.#clock;
    const startedAt = clock.now();
    const inFlightAtStart = this.#requests.size;
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
        const cut = { requests: this.#requests.size, connections: this.#connections.size, upgraded: this.stats().upgraded };
        for (const record of [...this.#connections]) {
          record.handle.destroy();
          this.#connections.delete(record);
        }
        for (const request of [...this.#requests]) this.#finish(request);
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
        for (const record of this.#connections) {
          if (record.upgraded || record.inFlight > 0 || record.closeRequested) continue;
          const bytes = readBytes(record.handle);
          if (bytes !== record.lastBytes) {
            // Bytes of a request the server has not parsed yet: not idle.
            record.lastBytes = bytes;
            record.lastActivity = now;
            record.idleAtCheck = 0;
          }
          const grace = record.requests === 0 ? this.#preconnectGraceMs : this.#idleGraceMs;
          const idleFor = now - record.lastActivity;
          if (idleFor < grace) {
            nextDue = Math.min(nextDue, grace - idleFor);
          } else if (record.idleAtCheck === 0) {
            // Idle past the grace, but confirm at the next check: if the event loop was held up, a
            // request may be waiting unread in the socket, and the I/O between two checks reads it.
            record.idleAtCheck = checks;
            nextDue = Math.min(nextDue, this.#pollMinMs);
          } else {
            record.closeRequested = true;
            if (record.requests === 0) preconnectsClosed++;
            else idleClosed++;
            record.handle.close();
          }
        }
        if (this.#connections.size === 0 && this.#requests.size === 0 && this.#pending.size === 0) {
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

function readBytes(handle: ConnectionHandle): number {
  try {
    return handle.bytesRead?.() ?? 0;
  } catch {
    return 0;
  }
}
