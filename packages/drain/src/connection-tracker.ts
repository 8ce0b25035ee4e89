import { type Clock, type ConnectionCloseHow, quiesceChannels, systemClock } from '@quiesce/core';
import type { SocketCloser, TrackedConnection } from './connection-handle.ts';
import type { DrainReport } from './drain-report.ts';
import { DrainOptionError, check } from './errors.ts';
import { ActivityBatches } from './internal/activity-batches.ts';
import { type IoWait, afterIo } from './internal/after-io.ts';
import { ConnectionList } from './internal/connection-list.ts';
import {
  ACTIVE,
  ANSWERED_CLOSING,
  CLOSED,
  CLOSE_ASKED,
  type ConnectionKind,
  ConnectionRecord,
  FRESH,
  HAD_REQUEST,
  IDLE,
  LISTED_PHASES,
  ONE_IN_FLIGHT,
  PHASE_MASK,
  RELEASING,
  UNSETTLED,
  UPGRADED,
  wholeMs,
} from './internal/connection-record.ts';

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
  /**
   * How many responses are streaming now (their head sent, their body still going), asked when the
   * drain starts and at the deadline before anything is destroyed: the report's `streamsAtStart`
   * and `streamsCut`. Absent: both 0.
   */
  streaming?: () => number;
}

/** Counts at one moment, for readiness pages, logs and tests. */
export interface TrackerStats {
  readonly state: DrainState;
  readonly connections: number;
  /** Open connections with no request in flight (`new` and `idle` ones). */
  readonly idle: number;
  readonly upgraded: number;
  readonly inFlight: number;
}

/** At most this many kinds of connection (closers) are remembered per tracker; more get one kind each. */
const KINDS_KEPT = 4;

const SERVING = 0;
const CLOSING = 1;
const DRAINING = 2;
const DRAINED = 3;
const FORCED = 4;
const STATE_NAMES: readonly DrainState[] = ['serving', 'closing', 'draining', 'drained', 'forced'];

/** The drain's side of the event catalog; each publish is guarded by `hasSubscribers`. */
const { connectionClosed: closedEvents, drainProgress, drainEnd } = quiesceChannels;

/** What a drain counts for its report. */
interface DrainRun {
  readonly startedAt: number;
  readonly inFlightAtStart: number;
  readonly completedBefore: number;
  readonly upgradedAtStart: number;
  readonly streamsAtStart: number;
  readonly streaming: (() => number) | undefined;
  idleClosed: number;
  preconnectsClosed: number;
  resolve: (report: DrainReport) => void;
  signal: AbortSignal | undefined;
}

/**
 * Runtime-neutral accounting of connections and requests, and the drain policy that adapters drive:
 * lame duck (answer everything with `Connection: close`, keep idle sockets open), then drain (let
 * in-flight requests finish, close idle connections after a grace with FIN, never touch upgraded
 * ones), then force-close whatever is left at the deadline. No runtime API is used here: adapters
 * report events and give each connection's runtime socket with a {@link SocketCloser} shared by all
 * sockets of its kind.
 *
 * Each connection has one state (`new`, `active`, `idle`, `upgraded`, `closed`, after Go's
 * `ConnState`) and sits in one list per state, in the order it entered it. The idle ones are
 * therefore in order of their last activity, and the drain sets one timer, for when the first of
 * them reaches its grace (then one more look, right after the runtime's next I/O poll, confirms
 * that it stayed idle); events (a response, a close) move connections between lists and end the
 * drain the moment nothing is left. There is no polling: with nothing due, no timer is pending.
 * Serving costs little per request: no allocation, and activity is timed in batches, not with a
 * clock reading each.
 *
 * @example
 * ```ts
 * const tracker = new ConnectionTracker({ idleGraceMs: 250 });
 * const closer = { close: (s: Socket) => s.end(), destroy: (s: Socket) => s.destroy(), bytesRead: (s: Socket) => s.bytesRead };
 * server.on('connection', (socket) => {
 *   const conn = tracker.socketOpened(socket, closer);
 *   socket.on('close', () => tracker.connectionClosed(conn));
 * });
 * server.on('request', (req, res) => {
 *   const conn = connectionOf(req.socket);
 *   tracker.requestStarted(conn);
 *   res.on('close', () => tracker.requestFinished(conn));
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
  readonly #onForce: (() => void) | undefined;
  /** One list per phase of a connection, indexed by the phase (see `connection-record.ts`). */
  readonly #lists: readonly ConnectionList[];
  readonly #fresh: ConnectionList;
  readonly #idle: ConnectionList;
  readonly #active: ConnectionList;
  /** While serving, connection activity is stamped in batches rather than at each event. */
  readonly #activity: ActivityBatches;
  readonly #kinds: ConnectionKind[] = [];
  /** Requests in flight: those on connections, and the {@link ConnectionTracker.#loose} ones. */
  #inFlight = 0;
  /** Requests in flight without a connection the tracker knows. */
  #loose = 0;
  /** Requests that ended (or whose connection closed) from shutdown on. */
  #completed = 0;
  readonly #pending = new Set<object>();
  readonly #closingListeners: ((active: readonly TrackedConnection[]) => void)[] = [];
  #state = SERVING;
  #draining: Promise<DrainReport> | undefined;
  #run: DrainRun | undefined;
  /** The drain's one wait for its next look: the confirming look, or when the first grace ends. */
  #wait: IoWait | undefined;
  #waitDue = Number.POSITIVE_INFINITY;
  /** When the drain last looked: a connection that was past its grace then, and is idle since, is closed. */
  #lookedAt = Number.NEGATIVE_INFINITY;
  /** Upgraded connections that closed from shutdown on, before the drain ended (not cut). */
  #upgradedClosed = 0;

  constructor(options: ConnectionTrackerOptions = {}) {
    check.object('options', options);
    const { idleGraceMs = 250, preconnectGraceMs = 100, clock = systemClock, onForce } = options;
    check.duration('idleGraceMs', idleGraceMs);
    check.duration('preconnectGraceMs', preconnectGraceMs);
    // Options of the polling drain, gone: a value for one fails here rather than being ignored.
    for (const removed of ['pollMinMs', 'pollMaxMs'] as const) {
      const value = (options as Record<string, unknown>)[removed];
      if (value !== undefined) {
        throw new DrainOptionError(
          removed,
          value,
          'no value: the drain no longer polls (it looks when a connection is due and when something happens); remove the option',
        );
      }
    }
    check.clock('clock', clock);
    if (onForce !== undefined) check.function('onForce', onForce);
    this.#clock = clock;
    this.#idleGraceMs = idleGraceMs;
    this.#preconnectGraceMs = preconnectGraceMs;
    this.#onForce = onForce;
    this.#lists = Array.from({ length: LISTED_PHASES }, () => new ConnectionList());
    this.#fresh = this.#lists[FRESH]!;
    this.#idle = this.#lists[IDLE]!;
    this.#active = this.#lists[ACTIVE]!;
    // An idle connection closes at most a batch late: at most half the shortest grace, and 50 ms.
    const batchMs = Math.max(1, Math.min(50, Math.floor(Math.min(idleGraceMs, preconnectGraceMs) / 2)));
    this.#activity = new ActivityBatches(clock, batchMs, [this.#fresh, this.#idle]);
  }

  /** The current state; see {@link DrainState}. */
  get state(): DrainState {
    return STATE_NAMES[this.#state]!;
  }

  /** True from {@link ConnectionTracker.beginShutdown} on: every response must carry `Connection: close`. */
  get closing(): boolean {
    return this.#state !== SERVING;
  }

  /**
   * Records a new connection given its runtime socket and the {@link SocketCloser} shared by every
   * socket of its kind (no handle or closures per connection). `raw` of the returned connection is
   * `socket`; its state is `new`. Connections accepted after the drain ended are destroyed at once;
   * a closer without `close` and `destroy` throws a {@link DrainOptionError}.
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
    return this.#open(socket, this.#kindOf(closer as SocketCloser<unknown>));
  }

  /**
   * Records that a connection is gone (closed by either side): its state becomes `closed`, and its
   * requests in flight count as ended. Idempotent; ignores what is not an open connection of this tracker.
   */
  connectionClosed(connection: TrackedConnection): void {
    const record = this.#own(connection);
    if (record === undefined || record.phase === CLOSED) return;
    if (record.phase === UPGRADED && (this.#state === CLOSING || this.#state === DRAINING)) this.#upgradedClosed++;
    if (closedEvents.hasSubscribers && this.#state !== SERVING) this.#publishClosed(record, false);
    this.#remove(record);
    if (this.#state === DRAINING) this.#afterChange();
  }

  /**
   * Marks a connection as `upgraded`: it is no longer HTTP, never idle, and is destroyed only at the
   * deadline. Its requests in flight count as ended.
   */
  connectionUpgraded(connection: TrackedConnection): void {
    const record = this.#own(connection);
    if (record === undefined) return;
    const phase = record.phase;
    if (phase === CLOSED || phase === UPGRADED) return;
    this.#dropRequests(record);
    this.#move(record, UPGRADED);
    if (this.#state === DRAINING) this.#afterChange();
  }

  /**
   * Records that a request started, on `connection` (now `active`) when the runtime exposes it, else
   * as a request on a connection the tracker does not know (Bun, Deno, sockets accepted before the
   * adapter). Call {@link ConnectionTracker.requestFinished} exactly once for each call, with the
   * same argument. Costs no allocation and no clock reading. Ignored on a connection that is closed
   * or upgraded.
   *
   * @example
   * ```ts
   * tracker.requestStarted(conn);
   * res.once('close', () => tracker.requestFinished(conn));
   * ```
   */
  requestStarted(connection?: TrackedConnection): void {
    const record = connection === undefined ? undefined : this.#own(connection);
    if (record === undefined) {
      this.#loose++;
      this.#inFlight++;
      return;
    }
    const phase = record.phase;
    if (phase === ACTIVE) {
      // Pipelined: another request on a connection that has one in flight.
      record.bits += ONE_IN_FLIGHT;
      this.#inFlight++;
      return;
    }
    if (phase === CLOSED || phase === UPGRADED) return;
    this.#lists[phase]!.remove(record);
    this.#active.push(record);
    record.bits = ((record.bits & ~PHASE_MASK) | ACTIVE | HAD_REQUEST) + ONE_IN_FLIGHT;
    this.#inFlight++;
    if (this.#state === DRAINING) this.#afterChange();
  }

  /**
   * Records that a request's response was sent or abandoned: pass what was passed to
   * {@link ConnectionTracker.requestStarted} (the connection, or nothing). The connection becomes
   * `idle` when it was its last request in flight. Ignored once the connection is closed or
   * upgraded (its requests ended then), and for a request without a connection when none is in
   * flight (the deadline cut them).
   *
   * @example
   * ```ts
   * res.once('close', () => tracker.requestFinished(conn));
   * ```
   */
  requestFinished(connection?: TrackedConnection): void {
    const record = connection === undefined ? undefined : this.#own(connection);
    if (record === undefined) {
      if (this.#loose === 0) return;
      this.#loose--;
      this.#ended();
      return;
    }
    if (record.phase !== ACTIVE) return;
    record.bits -= ONE_IN_FLIGHT;
    if (record.bits < ONE_IN_FLIGHT) {
      // Its last request: idle from now on, at the tail of the idle list (the most recent activity).
      this.#active.remove(record);
      this.#idle.push(record);
      record.setPhase(IDLE);
      if (this.#state === SERVING) this.#activity.note(record);
      else {
        record.bits |= ANSWERED_CLOSING;
        this.#stamp(record, this.#idleGraceMs);
      }
    }
    this.#ended();
  }

  /**
   * Makes the drain also wait for `work` that is neither a request nor a connection, such as a
   * runtime flushing responses it has already been handed (Deno's `server.finished`). It is not
   * counted in the report; at the deadline it is abandoned. A non-promise throws a {@link DrainOptionError}.
   */
  waitFor(work: PromiseLike<unknown>): void {
    if (!work || typeof (work as PromiseLike<unknown>).then !== 'function') {
      throw new DrainOptionError('work', work, 'a promise');
    }
    const token = {};
    this.#pending.add(token);
    const done = (): void => {
      if (this.#pending.delete(token) && this.#state === DRAINING) this.#afterChange();
    };
    work.then(done, done);
  }

  /**
   * Calls `listener` once, synchronously, when shutdown begins (at once if it already has), with the
   * connections that have a request in flight at that moment (state `active`), so that an adapter
   * can switch the responses in flight to `Connection: close` then instead of preparing every
   * response for it. Idle connections are not listed: with thousands of them, shutdown would pay
   * for a list nobody reads. Returns a function that removes the listener. A listener that throws
   * does not keep the others from running; {@link ConnectionTracker.beginShutdown} rethrows the
   * first error. A non-function throws a {@link DrainOptionError}.
   *
   * @example
   * ```ts
   * const off = tracker.onClosing((active) => {
   *   for (const conn of active) markClosing(conn.raw);
   * });
   * ```
   */
  onClosing(listener: (active: readonly TrackedConnection[]) => void): () => void {
    if (typeof listener !== 'function') throw new DrainOptionError('listener', listener, 'a function');
    if (this.#state !== SERVING) {
      listener(this.#recordsIn(ACTIVE));
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
    if (this.#state !== SERVING) return;
    // From now on idle times matter: stamp the activity noted so far, and read the clock at each event.
    this.#activity.settle();
    this.#state = CLOSING;
    const listeners = this.#closingListeners.splice(0);
    if (listeners.length === 0) return;
    const active = this.#recordsIn(ACTIVE);
    let failure: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        listener(active);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** The connections with a request in flight now (state `active`), oldest activity first. */
  activeConnections(): TrackedConnection[] {
    return this.#recordsIn(ACTIVE);
  }

  /** The runtime sockets of upgraded connections, for a hook that closes them (WebSocket 1001). */
  upgradedConnections(): unknown[] {
    return this.#recordsIn(UPGRADED).map((record) => record.raw);
  }

  /** Counts at this moment. */
  stats(): TrackerStats {
    const lists = this.#lists;
    const upgraded = lists[UPGRADED]!.size;
    const busy = lists[ACTIVE]!.size;
    const idle = lists[FRESH]!.size + lists[IDLE]!.size + lists[RELEASING]!.size;
    return { state: this.state, connections: idle + busy + upgraded, idle, upgraded, inFlight: this.#inFlight };
  }

  /**
   * Drains: waits for in-flight requests, closes connections that stay idle past the grace (FIN),
   * and resolves as soon as nothing is left. A connection past its grace is closed at a second,
   * confirming look right after the runtime's next I/O poll, so that a request left unread by a
   * stalled event loop is seen first. When `signal` aborts (the
   * deadline), destroys every remaining connection, upgraded ones included, and resolves with
   * outcome `forced`. Idempotent; a non-signal throws a {@link DrainOptionError}.
   */
  drain(options: DrainOptions = {}): Promise<DrainReport> {
    if (this.#draining) return this.#draining;
    const { signal, streaming } = options;
    if (signal !== undefined) check.signal('signal', signal);
    if (streaming !== undefined) check.function('streaming', streaming, 'a function that returns how many responses are streaming');
    this.beginShutdown();
    this.#state = DRAINING;
    this.#draining = new Promise<DrainReport>((resolve) => {
      this.#run = {
        startedAt: this.#clock.now(),
        inFlightAtStart: this.#inFlight,
        completedBefore: this.#completed,
        upgradedAtStart: this.#lists[UPGRADED]!.size,
        streamsAtStart: streaming?.() ?? 0,
        streaming,
        idleClosed: 0,
        preconnectsClosed: 0,
        resolve,
        signal,
      };
    });
    if (signal?.aborted) this.#onDeadline();
    else {
      signal?.addEventListener('abort', this.#onDeadline, { once: true });
      this.#look();
    }
    return this.#draining;
  }

  /** Destroys every connection now (an immediate stop). Returns how many were destroyed. */
  forceClose(): number {
    const records = this.#openRecords();
    for (const record of records) {
      // A destroy may report other closes at once; each connection is closed (and told of) once.
      if (record.phase === CLOSED) continue;
      if (closedEvents.hasSubscribers && this.#state !== SERVING) this.#publishClosed(record, true);
      this.#remove(record);
      record.kind.closer.destroy(record.target);
    }
    if (records.length > 0 && this.#state === DRAINING) this.#afterChange();
    this.#onForce?.();
    return records.length;
  }

  /** `connection` as a record of this tracker, or undefined. */
  #own(connection: TrackedConnection | undefined): ConnectionRecord | undefined {
    return connection instanceof ConnectionRecord && connection.kind.owner === this ? connection : undefined;
  }

  #kindOf(closer: SocketCloser<unknown>): ConnectionKind {
    for (const kind of this.#kinds) if (kind.closer === closer) return kind;
    const kind: ConnectionKind = { owner: this, closer };
    // A closer per socket (not what the API asks for) must not grow this list without bound.
    if (this.#kinds.length < KINDS_KEPT) this.#kinds.push(kind);
    return kind;
  }

  #open(target: unknown, kind: ConnectionKind): ConnectionRecord {
    const record = new ConnectionRecord(target, kind);
    if (this.#state === DRAINED || this.#state === FORCED) {
      record.bits = CLOSED;
      kind.closer.destroy(target);
      return record;
    }
    this.#enterWaiting(record, FRESH);
    return record;
  }

  /**
   * Appends `record` (in no list) to the `new` or `idle` list with its activity time: noted for the
   * batch while serving, else read now; while draining, the drain looks again when its grace ends.
   */
  #enterWaiting(record: ConnectionRecord, phase: typeof FRESH | typeof IDLE): void {
    record.setPhase(phase);
    this.#lists[phase]!.push(record);
    if (this.#state === SERVING) this.#activity.note(record);
    else this.#stamp(record, phase === FRESH ? this.#preconnectGraceMs : this.#idleGraceMs);
  }

  /** Stamps the activity of `record` (from shutdown on); while draining, the drain looks again when its grace ends. */
  #stamp(record: ConnectionRecord, graceMs: number): void {
    record.bits &= ~UNSETTLED;
    record.lastActivity = wholeMs(this.#clock.now());
    record.lastBytes = record.bytesRead();
    if (this.#state === DRAINING) this.#lookAt(record.lastActivity + graceMs);
  }

  /** Moves `record` (in a list) to the list of `phase`. */
  #move(record: ConnectionRecord, phase: number): void {
    this.#lists[record.phase]!.remove(record);
    record.setPhase(phase);
    this.#lists[phase]!.push(record);
  }

  /** Forgets `record` (in a list): `closed`, and its requests count as ended. */
  #remove(record: ConnectionRecord): void {
    this.#lists[record.phase]!.remove(record);
    // The adapter may keep a closed connection for a while: it must not keep its neighbours alive.
    record.prev = undefined;
    record.next = undefined;
    this.#dropRequests(record);
    record.setPhase(CLOSED);
  }

  /** A request ended: counted from shutdown on; while draining, perhaps the last thing left. */
  #ended(): void {
    this.#inFlight--;
    if (this.#state === SERVING) return;
    this.#completed++;
    if (this.#state === DRAINING) this.#afterChange();
  }

  /** Ends the requests in flight on a connection that closed or was upgraded; they count as completed. */
  #dropRequests(record: ConnectionRecord): void {
    const count = record.inFlight;
    if (count === 0) return;
    record.bits -= count * ONE_IN_FLIGHT;
    this.#inFlight -= count;
    if (this.#state !== SERVING) this.#completed += count;
  }

  /** The connections in `phase`, in the order they entered it. */
  #recordsIn(phase: number): ConnectionRecord[] {
    const records: ConnectionRecord[] = [];
    this.#lists[phase]!.forEach((record) => {
      records.push(record);
    });
    return records;
  }

  #openRecords(): ConnectionRecord[] {
    const records: ConnectionRecord[] = [];
    for (let phase = 0; phase < LISTED_PHASES; phase++) records.push(...this.#recordsIn(phase));
    return records;
  }

  /** No connection, no request in flight and no awaited work: a drain is done. */
  #nothingLeft(): boolean {
    return this.#inFlight === 0 && this.#pending.size === 0 && this.#lists.every((list) => list.size === 0);
  }

  /**
   * While draining, after an event: the drain ends the moment nothing is left (not a timer hop
   * later), and no timer stays pending once no connection waits for its grace.
   */
  #afterChange(): void {
    if (this.#nothingLeft()) {
      this.#end('drained');
      return;
    }
    if (this.#wait !== undefined && this.#fresh.size + this.#idle.size === 0) this.#stopWaiting();
  }

  /** Makes the drain look again at `due` (a clock reading) at the latest. */
  #lookAt(due: number): void {
    if (this.#state !== DRAINING) return;
    if (this.#wait !== undefined) {
      if (this.#waitDue <= due) return;
      this.#wait.cancel();
    }
    this.#waitDue = due;
    const clock = this.#clock;
    const timer = clock.setTimeout(this.#onWake, Math.max(0, Math.ceil(due - clock.now())));
    this.#wait = { cancel: () => clock.clearTimeout(timer) };
  }

  /** Makes the drain look again right after the runtime's next I/O poll. */
  #lookAfterIo(): void {
    if (this.#state !== DRAINING) return;
    this.#wait?.cancel();
    this.#waitDue = this.#clock.now();
    this.#wait = afterIo(this.#clock, this.#onWake);
  }

  #stopWaiting(): void {
    this.#wait?.cancel();
    this.#wait = undefined;
    this.#waitDue = Number.POSITIVE_INFINITY;
  }

  readonly #onWake = (): void => {
    this.#wait = undefined;
    this.#waitDue = Number.POSITIVE_INFINITY;
    if (this.#state === DRAINING) this.#look();
  };

  /**
   * One look of the drain, at each list's head (the longest idle first). A connection that was
   * past its grace at the previous look and idle since (any activity moved it out of its place) is
   * closed with FIN, unless bytes arrived unparsed (then its grace starts again). One that is past
   * its grace only now is confirmed at the next look, right after the runtime's next I/O poll: if
   * the event loop was held up, a request may be waiting unread in the socket, and the poll reads
   * it. Then the one wait is set: that confirming look, or when the next grace ends.
   */
  #look(): void {
    const run = this.#run!;
    const now = this.#clock.now();
    const previous = this.#lookedAt;
    this.#lookedAt = now;
    let confirm = false;
    let nextDue = Number.POSITIVE_INFINITY;
    for (const [list, graceMs] of [
      [this.#fresh, this.#preconnectGraceMs],
      [this.#idle, this.#idleGraceMs],
    ] as const) {
      // The head is re-read at each step: a closer may report other connections closed at once.
      for (let record = list.head; record !== undefined; record = list.head) {
        const due = record.lastActivity + graceMs;
        if (due > now) {
          nextDue = Math.min(nextDue, due);
          break;
        }
        if (due > previous) {
          // Past the grace only now (and so is everyone behind it): confirmed at the next look.
          confirm = true;
          break;
        }
        const bytes = record.bytesRead();
        if (bytes !== record.lastBytes) {
          // Bytes of a request the server has not parsed yet: not idle, the grace starts again.
          list.remove(record);
          this.#enterWaiting(record, record.phase as typeof FRESH | typeof IDLE);
          continue;
        }
        if (list === this.#fresh) run.preconnectsClosed++;
        else run.idleClosed++;
        const phase = record.phase;
        // Marked first: a closer may report the close before it returns.
        record.bits |= CLOSE_ASKED;
        const closed = record.kind.closer.close(record.target) === true;
        // The closer may have reported closes (this one, others), which may have ended the drain.
        if (this.#state !== DRAINING) return;
        if (record.phase !== phase) continue;
        // Closed for good on return: forget it now, not when the runtime reports the close.
        if (closed) {
          if (closedEvents.hasSubscribers) this.#publishClosed(record, false);
          this.#remove(record);
        } else this.#move(record, RELEASING);
      }
    }
    if (this.#nothingLeft()) {
      this.#end('drained');
      return;
    }
    if (drainProgress.hasSubscribers) drainProgress.publish(this.stats());
    if (confirm) this.#lookAfterIo();
    else if (nextDue !== Number.POSITIVE_INFINITY) this.#lookAt(nextDue);
  }

  readonly #onDeadline = (): void => {
    if (this.#state !== DRAINING) return;
    // Forced from here on: the reports of the closes below change nothing but the lists.
    this.#state = FORCED;
    const records = this.#openRecords();
    const streams = this.#run!.streaming?.() ?? 0;
    const cut = { requests: this.#inFlight, connections: records.length, upgraded: this.#lists[UPGRADED]!.size, streams };
    // Cut, not completed: out of the counts before the connections go.
    this.#inFlight = 0;
    this.#loose = 0;
    this.#pending.clear();
    for (const record of records) {
      if (record.phase === CLOSED) continue;
      if (closedEvents.hasSubscribers) this.#publishClosed(record, true);
      record.bits &= ONE_IN_FLIGHT - 1;
      this.#remove(record);
      record.kind.closer.destroy(record.target);
    }
    this.#onForce?.();
    this.#end('forced', cut);
  };

  #end(outcome: 'drained' | 'forced', cut = { requests: 0, connections: 0, upgraded: 0, streams: 0 }): void {
    const run = this.#run!;
    this.#state = outcome === 'drained' ? DRAINED : FORCED;
    this.#stopWaiting();
    run.signal?.removeEventListener('abort', this.#onDeadline);
    const report: DrainReport = {
      outcome,
      durationMs: this.#clock.now() - run.startedAt,
      inFlightAtStart: run.inFlightAtStart,
      requestsCompleted: this.#completed - run.completedBefore,
      requestsCut: cut.requests,
      idleClosed: run.idleClosed,
      preconnectsClosed: run.preconnectsClosed,
      forceClosed: cut.connections,
      upgradedAtStart: run.upgradedAtStart,
      upgradedClosed: this.#upgradedClosed,
      upgradedForceClosed: cut.upgraded,
      streamsAtStart: run.streamsAtStart,
      streamsCut: cut.streams,
    };
    if (drainEnd.hasSubscribers) drainEnd.publish(report);
    run.resolve(report);
  }

  /**
   * `quiesce:drain:connection-closed` for `record`, which closes now (call it only while someone
   * subscribes, during shutdown, before the record is forgotten): a connection the drain asked to
   * close closed `idle` (or `preconnect`), even when the deadline destroys it while its FIN is out;
   * otherwise `forced` when the deadline or an immediate stop destroys it, `response-last` after a
   * response of the shutdown (which said `Connection: close`), else `peer`.
   */
  #publishClosed(record: ConnectionRecord, forced: boolean): void {
    const bits = record.bits;
    let how: ConnectionCloseHow;
    if ((bits & CLOSE_ASKED) !== 0) how = (bits & HAD_REQUEST) !== 0 ? 'idle' : 'preconnect';
    else if (forced) how = 'forced';
    else how = (bits & ANSWERED_CLOSING) !== 0 ? 'response-last' : 'peer';
    closedEvents.publish({ how, inFlight: record.inFlight, upgraded: record.phase === UPGRADED });
  }
}
