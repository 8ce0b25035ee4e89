import type { TimerHandle } from '@quiesce/core';
import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import type { SocketCloser } from './connection-handle.ts';
import { ConnectionTracker, type ConnectionTrackerOptions } from './connection-tracker.ts';
import { DrainOptionError } from './errors.ts';
import { CONFIRM_MS } from './internal/confirm-delay.ts';

/** A manual clock that also counts the timers started on it. */
class CountingClock extends ManualClock {
  started = 0;
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    this.started++;
    return super.setTimeout(fn, ms);
  }
}

/** A fake socket is the real thing here: the tracker only ever sees it through the closer. */
interface FakeSocket {
  readonly name: string;
  bytes: number;
  readonly events: string[];
  /** What `close()` returns: `true` = closed for good on return. */
  closesAtOnce?: boolean;
}

const closer: SocketCloser<FakeSocket> = {
  close: (socket) => {
    socket.events.push('close');
    return socket.closesAtOnce === true;
  },
  destroy: (socket) => {
    socket.events.push('destroy');
  },
  bytesRead: (socket) => socket.bytes,
};

function setup(options: ConnectionTrackerOptions = {}) {
  const clock = new CountingClock();
  const tracker = new ConnectionTracker({ clock, ...options });
  const open = (name = 'socket', extra: Partial<FakeSocket> = {}) => {
    const socket: FakeSocket = { name, bytes: 0, events: [], ...extra };
    return { socket, conn: tracker.socketOpened(socket, closer) };
  };
  /** A request on `conn` from start to finish, as a keep-alive client makes one. */
  const request = (conn: ReturnType<typeof open>['conn']) => {
    tracker.requestStarted(conn);
    tracker.requestFinished(conn);
  };
  return { clock, tracker, open, request };
}

/** Resolves `drained` into a box, so a test can ask whether it has resolved yet. */
function watch<T>(promise: Promise<T>) {
  const box: { value: T | undefined } = { value: undefined };
  void promise.then((value) => {
    box.value = value;
  });
  return box;
}

describe('ConnectionTracker: one state per connection', () => {
  it('a connection is new until its first request, active while one is in flight (pipelined: several), idle between requests', () => {
    const { tracker, open } = setup();
    const { conn } = open();
    expect(conn).toMatchObject({ state: 'new', inFlight: 0 });
    expect(tracker.stats()).toMatchObject({ connections: 1, idle: 1, inFlight: 0 });
    tracker.requestStarted(conn);
    expect(conn).toMatchObject({ state: 'active', inFlight: 1 });
    tracker.requestStarted(conn); // pipelined
    expect(conn).toMatchObject({ state: 'active', inFlight: 2 });
    tracker.requestFinished(conn);
    expect(conn).toMatchObject({ state: 'active', inFlight: 1 });
    tracker.requestFinished(conn);
    expect(conn).toMatchObject({ state: 'idle', inFlight: 0 });
    expect(tracker.stats()).toMatchObject({ connections: 1, idle: 1, inFlight: 0 });
    tracker.requestStarted(conn);
    expect(conn.state).toBe('active');
    tracker.requestFinished(conn);
    expect(conn.state).toBe('idle');
  });

  it('a close makes a connection closed: its requests end, no one else\'s, and later reports about it are ignored', () => {
    const { tracker, open } = setup();
    const a = open('a').conn;
    const b = open('b').conn;
    tracker.requestStarted(a);
    tracker.requestStarted(a); // pipelined
    tracker.requestStarted(b);
    tracker.connectionClosed(a);
    expect(a).toMatchObject({ state: 'closed', inFlight: 0 });
    expect(b).toMatchObject({ state: 'active', inFlight: 1 });
    expect(tracker.stats()).toMatchObject({ connections: 1, inFlight: 1 });
    tracker.requestFinished(a);
    tracker.requestFinished(a);
    tracker.requestStarted(a); // a closed connection takes no requests
    tracker.connectionClosed(a);
    tracker.connectionUpgraded(a);
    expect(a.state).toBe('closed');
    expect(tracker.stats()).toMatchObject({ connections: 1, inFlight: 1, upgraded: 0 });
  });

  it('an upgrade is for good: the requests in flight end, later ends of them are ignored, and the connection is never idle', async () => {
    const { clock, tracker, open } = setup({ idleGraceMs: 10 });
    const { socket, conn } = open();
    tracker.requestStarted(conn);
    tracker.connectionUpgraded(conn);
    expect(conn).toMatchObject({ state: 'upgraded', inFlight: 0 });
    expect(tracker.stats()).toMatchObject({ connections: 1, idle: 0, upgraded: 1, inFlight: 0 });
    tracker.requestFinished(conn);
    tracker.requestStarted(conn);
    tracker.connectionUpgraded(conn);
    expect(tracker.stats()).toMatchObject({ upgraded: 1, inFlight: 0 });
    expect(tracker.upgradedConnections()).toEqual([socket]);
    void tracker.drain();
    await clock.advance(60_000);
    expect(socket.events).toEqual([]);
    expect(conn.state).toBe('upgraded');
  });

  it('while the drain confirms and closes a connection past its grace it stays idle (or new), and is closed once the runtime reports it', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250, preconnectGraceMs: 100 });
    const used = open('used');
    const unused = open('unused');
    request(used.conn);
    const drained = watch(tracker.drain());
    await clock.advance(250); // both past their grace: waiting for the confirming look
    expect([used.conn.state, unused.conn.state]).toEqual(['idle', 'new']);
    expect(used.socket.events).toEqual([]);
    await clock.advance(CONFIRM_MS); // asked to close (FIN); the runtime has not reported it yet
    expect([used.socket.events, unused.socket.events]).toEqual([['close'], ['close']]);
    expect([used.conn.state, unused.conn.state]).toEqual(['idle', 'new']);
    expect(tracker.stats()).toMatchObject({ connections: 2, idle: 2 });
    tracker.connectionClosed(used.conn);
    tracker.connectionClosed(unused.conn);
    expect([used.conn.state, unused.conn.state]).toEqual(['closed', 'closed']);
    await clock.advance(0);
    expect(drained.value).toMatchObject({ outcome: 'drained', idleClosed: 1, preconnectsClosed: 1 });
  });

  it('a connection accepted after the drain ended is closed at once (destroyed)', async () => {
    const { tracker, open } = setup();
    await tracker.drain();
    const { socket, conn } = open();
    expect(socket.events).toEqual(['destroy']);
    expect(conn.state).toBe('closed');
    expect(tracker.stats().connections).toBe(0);
  });
});

describe('ConnectionTracker: shutdown and drain', () => {
  it('answers with Connection: close from beginShutdown on, and not before', () => {
    const { tracker } = setup();
    expect(tracker.closing).toBe(false);
    expect(tracker.state).toBe('serving');
    tracker.beginShutdown();
    expect(tracker.closing).toBe(true);
    expect(tracker.state).toBe('closing');
  });

  it('drains at once when nothing is open, leaving no timer behind', async () => {
    const { clock, tracker } = setup();
    const report = await tracker.drain();
    expect(report.outcome).toBe('drained');
    expect(tracker.state).toBe('drained');
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends the drain the moment the last connection closes, without waiting for a timer', async () => {
    const { clock, tracker, open } = setup({ idleGraceMs: 250 });
    const { conn } = open();
    tracker.requestStarted(conn);
    const drained = tracker.drain();
    tracker.requestFinished(conn);
    tracker.connectionClosed(conn);
    // The manual clock never moves here: a drain that waited for its next look would hang.
    const report = await drained;
    expect(report).toMatchObject({ outcome: 'drained', requestsCompleted: 1 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('waits for an in-flight request and finishes as soon as its connection closes', async () => {
    const { clock, tracker, open } = setup({ idleGraceMs: 250 });
    const { socket, conn } = open();
    tracker.requestStarted(conn);
    tracker.beginShutdown();
    const drained = watch(tracker.drain());
    await clock.advance(1_000);
    expect(drained.value).toBeUndefined();
    expect(socket.events).toEqual([]); // never closed while a request is in flight
    tracker.requestFinished(conn);
    tracker.connectionClosed(conn); // the response carried Connection: close; the runtime closed it
    await clock.advance(0);
    expect(drained.value).toMatchObject({ outcome: 'drained', inFlightAtStart: 1, requestsCompleted: 1, requestsCut: 0, idleClosed: 0, durationMs: 1_000 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps idle keep-alive connections open during the lame duck', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250 });
    const { socket, conn } = open();
    request(conn);
    tracker.beginShutdown();
    await clock.advance(10_000);
    expect(socket.events).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('closes an idle keep-alive connection with FIN after the idle grace and a confirming look, not before', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250 });
    const { socket, conn } = open();
    tracker.beginShutdown();
    request(conn); // at 0
    const drained = watch(tracker.drain());
    await clock.advance(249);
    expect(socket.events).toEqual([]);
    await clock.advance(1); // 250: past the grace, confirmed at the next look, after the runtime's I/O
    expect(socket.events).toEqual([]);
    await clock.advance(CONFIRM_MS);
    expect(socket.events).toEqual(['close']);
    tracker.connectionClosed(conn);
    await clock.advance(0);
    expect(drained.value).toMatchObject({ outcome: 'drained', idleClosed: 1, preconnectsClosed: 0, forceClosed: 0 });
  });

  it('forgets an idle connection at once when its closer says it is closed for good, and ignores the later close report', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250 });
    const { socket, conn } = open('released', { closesAtOnce: true });
    request(conn);
    const drained = tracker.drain();
    await clock.advance(250 + CONFIRM_MS);
    expect(socket.events).toEqual(['close']);
    // No connectionClosed(conn) yet: the closer returned true.
    expect(await drained).toMatchObject({ outcome: 'drained', idleClosed: 1, forceClosed: 0 });
    expect(conn.state).toBe('closed');
    tracker.connectionClosed(conn);
    expect(tracker.stats()).toMatchObject({ connections: 0, idle: 0 });

    // A closer that returns anything else is waited for until the runtime reports the close.
    const other = setup({ idleGraceMs: 250 });
    const lingering = other.open('lingering');
    other.request(lingering.conn);
    const waiting = watch(other.tracker.drain());
    await other.clock.advance(1_000);
    expect(lingering.socket.events).toEqual(['close']);
    expect(waiting.value).toBeUndefined();
    expect(other.clock.pendingTimers).toBe(0); // nothing is due: waiting for the report, not polling
    other.tracker.connectionClosed(lingering.conn);
    await other.clock.advance(0);
    expect(waiting.value).toMatchObject({ outcome: 'drained', idleClosed: 1 });
  });

  it('counts idleness from the last response, so a long-idle socket closes at the confirming look', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250 });
    const { socket, conn } = open();
    request(conn);
    await clock.advance(5_000);
    void tracker.drain();
    expect(socket.events).toEqual([]);
    await clock.advance(CONFIRM_MS); // after the I/O in between found nothing new
    expect(socket.events).toEqual(['close']);
  });

  it('does not close a long-idle socket whose request bytes arrive between the first look and the confirming one', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250 });
    const { socket, conn } = open();
    request(conn);
    await clock.advance(5_000); // the event loop was busy: the request is still unread in the socket
    void tracker.drain();
    socket.bytes += 60; // the I/O between two looks reads it
    await clock.advance(CONFIRM_MS);
    expect(socket.events).toEqual([]);
    expect(conn.state).toBe('idle');
    await clock.advance(249); // its grace starts again from the confirming look
    expect(socket.events).toEqual([]);
    await clock.advance(1 + CONFIRM_MS);
    expect(socket.events).toEqual(['close']);
  });

  it('does not close a long-idle socket whose request starts between the first look and the confirming one', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250 });
    const { socket, conn } = open();
    request(conn);
    await clock.advance(5_000);
    const drained = watch(tracker.drain());
    tracker.requestStarted(conn); // read and parsed by the I/O between two looks
    await clock.advance(CONFIRM_MS);
    expect(socket.events).toEqual([]);
    expect(conn.state).toBe('active');
    tracker.requestFinished(conn);
    tracker.connectionClosed(conn); // its response carried Connection: close
    await clock.advance(0);
    expect(drained.value).toMatchObject({ outcome: 'drained', requestsCompleted: 1, idleClosed: 0 });
  });

  it('closes a preconnected socket that never sent a request after the preconnect grace', async () => {
    const { clock, tracker, open } = setup({ idleGraceMs: 250, preconnectGraceMs: 50 });
    const { socket, conn } = open();
    const drained = watch(tracker.drain());
    await clock.advance(50);
    expect(socket.events).toEqual([]);
    await clock.advance(CONFIRM_MS);
    expect(socket.events).toEqual(['close']);
    tracker.connectionClosed(conn);
    await clock.advance(0);
    expect(drained.value).toMatchObject({ preconnectsClosed: 1, idleClosed: 0 });
  });

  it('does not close a socket on which a request is arriving but not yet parsed', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250 });
    const { socket, conn } = open();
    request(conn);
    void tracker.drain();
    await clock.advance(200);
    socket.bytes += 40; // half a request line arrived
    await clock.advance(200);
    expect(socket.events).toEqual([]);
    await clock.advance(300);
    expect(socket.events).toEqual(['close']);
  });

  it('cuts in-flight requests at the deadline, destroys every connection, and records what was cut', async () => {
    const { clock, tracker, open } = setup();
    const a = open('a');
    const b = open('b');
    const c = open('c');
    tracker.requestStarted(a.conn);
    tracker.requestStarted(a.conn);
    tracker.connectionUpgraded(c.conn);
    tracker.requestStarted(); // and one on a connection the runtime does not expose
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    await clock.advance(50);
    deadline.abort();
    const report = await drained;
    expect(a.socket.events).toEqual(['destroy']);
    expect(c.socket.events).toEqual(['destroy']);
    expect(report).toMatchObject({ outcome: 'forced', inFlightAtStart: 3, requestsCut: 3, requestsCompleted: 0, upgradedAtStart: 1, upgradedForceClosed: 1 });
    // b was new: closed at its preconnect grace (100 ms) if that came first, else destroyed here.
    expect(report.forceClosed).toBe(2 + (b.socket.events.includes('destroy') ? 1 : 0));
    expect(tracker.state).toBe('forced');
    expect(tracker.stats()).toMatchObject({ connections: 0, inFlight: 0 });
    expect(clock.pendingTimers).toBe(0);
    tracker.requestFinished(a.conn); // cut requests that end late are ignored
    tracker.requestFinished();
    expect(tracker.stats().inFlight).toBe(0);
  });

  it('forces at once when the deadline has already passed', async () => {
    const { tracker, open } = setup();
    const { socket } = open();
    expect(await tracker.drain({ signal: AbortSignal.abort() })).toMatchObject({ outcome: 'forced', forceClosed: 1 });
    expect(socket.events).toEqual(['destroy']);
  });

  it('waits for requests without a connection (runtimes that hide sockets), ends with the last, and calls onForce at the deadline', async () => {
    const { clock, tracker } = setup();
    tracker.requestStarted();
    tracker.requestStarted();
    tracker.requestFinished();
    expect(tracker.stats().inFlight).toBe(1);
    const drained = watch(tracker.drain());
    await clock.advance(1_000);
    expect(tracker.state).toBe('draining'); // one is still in flight
    expect(clock.pendingTimers).toBe(0);
    tracker.requestFinished();
    await clock.advance(0);
    expect(drained.value).toMatchObject({ outcome: 'drained', inFlightAtStart: 1, requestsCompleted: 1, requestsCut: 0 });
    tracker.requestFinished(); // one end too many: ignored
    expect(tracker.stats().inFlight).toBe(0);

    let forced = 0;
    const second = setup({ onForce: () => forced++ });
    second.tracker.requestStarted();
    second.tracker.requestStarted();
    const deadline = new AbortController();
    const cut = second.tracker.drain({ signal: deadline.signal });
    second.tracker.requestFinished();
    deadline.abort();
    expect(await cut).toMatchObject({ outcome: 'forced', inFlightAtStart: 2, requestsCompleted: 1, requestsCut: 1 });
    expect(forced).toBe(1);
    second.tracker.requestFinished(); // the cut one ends late: ignored
    expect(second.tracker.stats().inFlight).toBe(0);
  });

  it('waits for extra work (a runtime flush) without counting it as a request', async () => {
    const { clock, tracker } = setup();
    let flush: () => void = () => {};
    tracker.waitFor(new Promise<void>((resolve) => (flush = resolve)));
    const drained = watch(tracker.drain());
    await clock.advance(1_000);
    expect(drained.value).toBeUndefined();
    flush();
    await clock.advance(0);
    expect(drained.value).toMatchObject({ outcome: 'drained', requestsCompleted: 0, inFlightAtStart: 0 });
  });

  it('returns the same promise when drain is called twice', () => {
    const { tracker } = setup();
    expect(tracker.drain()).toBe(tracker.drain());
  });

  it('forceClose destroys every connection now and says how many', () => {
    const { tracker, open } = setup();
    const a = open('a');
    const b = open('b');
    tracker.connectionUpgraded(b.conn);
    expect(tracker.forceClose()).toBe(2);
    expect([a.socket.events, b.socket.events]).toEqual([['destroy'], ['destroy']]);
    expect(tracker.stats().connections).toBe(0);
  });

  it('a forceClose during the drain ends it as drained once nothing is left', async () => {
    const { tracker, open } = setup();
    const { conn } = open();
    tracker.requestStarted(conn);
    const drained = tracker.drain();
    tracker.forceClose();
    expect(await drained).toMatchObject({ outcome: 'drained', requestsCompleted: 1 });
  });

  it('while serving, times activity without a clock reading per request, and still closes each socket on time', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 200, preconnectGraceMs: 200 }); // batches of 50 ms
    const old = open('old');
    request(old.conn);
    await clock.advance(1_000);
    const recent = open('recent');
    request(recent.conn); // at 1 000, stamped at the end of its batch (1 050)
    await clock.advance(100);
    const drained = watch(tracker.drain());
    await clock.advance(CONFIRM_MS);
    expect(old.socket.events).toEqual(['close']); // idle for a second: at once
    await clock.advance(147); // 1 248: within 200 ms of the end of its batch, so not yet
    expect(recent.socket.events).toEqual([]);
    await clock.advance(2 + CONFIRM_MS);
    expect(recent.socket.events).toEqual(['close']);
    tracker.connectionClosed(old.conn);
    tracker.connectionClosed(recent.conn);
    await clock.advance(0);
    expect(drained.value).toMatchObject({ outcome: 'drained', idleClosed: 2 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('tracks a runtime socket through a shared closer: raw is the socket, and each socket closes apart', async () => {
    const { clock, tracker, open } = setup({ idleGraceMs: 250 });
    const a = open('a');
    const b = open('b');
    expect(a.conn.raw).toBe(a.socket);
    tracker.requestStarted(a.conn);
    tracker.requestStarted(b.conn);
    expect(tracker.stats()).toMatchObject({ connections: 2, inFlight: 2, idle: 0 });
    tracker.requestFinished(a.conn);
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    await clock.advance(250 + CONFIRM_MS);
    expect([a.socket.events, b.socket.events]).toEqual([['close'], []]); // b still has its request in flight
    tracker.connectionClosed(a.conn);
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', inFlightAtStart: 1, requestsCut: 1, idleClosed: 1, forceClosed: 1 });
    expect(b.socket.events).toEqual(['destroy']);
  });

  it('tells onClosing listeners once, synchronously, with the connections that have a request in flight when shutdown begins', () => {
    const { tracker, open, request } = setup();
    const a = open('a').conn;
    const b = open('b').conn;
    const c = open('c').conn;
    open('never used');
    tracker.requestStarted(a);
    tracker.requestStarted(b);
    request(c); // idle: not listed
    tracker.connectionClosed(b);
    const seen: (readonly unknown[])[] = [];
    tracker.onClosing((list) => seen.push(list));
    const off = tracker.onClosing(() => seen.push(['removed']));
    off();
    expect(seen).toEqual([]);
    tracker.beginShutdown();
    tracker.beginShutdown();
    expect(seen).toEqual([[a]]);
    tracker.onClosing((list) => seen.push(list)); // already closing: at once
    expect(seen).toEqual([[a], [a]]);
    expect(() => tracker.onClosing(42 as never)).toThrow(/Invalid listener/);
  });

  it('runs every onClosing listener even when one throws, then rethrows', () => {
    const { tracker } = setup();
    let second = false;
    tracker.onClosing(() => {
      throw new Error('boom');
    });
    tracker.onClosing(() => {
      second = true;
    });
    expect(() => tracker.beginShutdown()).toThrow('boom');
    expect(second).toBe(true);
    expect(tracker.closing).toBe(true);
  });

  it('a connection that closes while the drain is closing others is skipped and forgotten', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 10, preconnectGraceMs: 10 });
    const conns: ReturnType<typeof tracker.socketOpened>[] = [];
    // Closing the first one synchronously closes all of them (as a runtime may, from close()).
    const closeAll: SocketCloser<number> = {
      close: () => {
        for (const c of conns) tracker.connectionClosed(c);
      },
      destroy: () => {},
    };
    for (let i = 0; i < 3; i++) conns.push(tracker.socketOpened(i, closeAll));
    const drained = tracker.drain();
    await clock.advance(30);
    expect(await drained).toMatchObject({ outcome: 'drained', preconnectsClosed: 1 });
    expect(tracker.stats().connections).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('ignores reports about connections of another tracker and about objects that are not connections', () => {
    const { tracker, open } = setup();
    const mine = open().conn;
    const theirs = setup().open().conn;
    const stranger = { raw: null, state: 'idle', inFlight: 0 } as const;
    for (const conn of [theirs, stranger]) {
      tracker.connectionClosed(conn);
      tracker.connectionUpgraded(conn);
    }
    expect(tracker.stats()).toMatchObject({ connections: 1, upgraded: 0, inFlight: 0 });
    expect([mine.state, theirs.state]).toEqual(['new', 'new']);
    // A request on a connection it does not know counts like one on a connection the runtime hides.
    tracker.requestStarted(theirs);
    expect(tracker.stats().inFlight).toBe(1);
    tracker.requestFinished(theirs);
    expect(tracker.stats().inFlight).toBe(0);
  });
});

describe('ConnectionTracker: timers only when something is due', () => {
  it('starts no timer while nothing happens, one per batch of activity while serving, none in the lame duck', async () => {
    const { clock, tracker, open, request } = setup();
    expect(clock.pendingTimers).toBe(0);
    const conns = Array.from({ length: 50 }, (_, i) => open(`s${i}`).conn);
    for (let i = 0; i < 10; i++) for (const conn of conns) request(conn);
    expect(clock.started).toBe(1);
    await clock.advance(1_000);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.started).toBe(1);
    tracker.beginShutdown();
    for (const conn of conns) request(conn);
    await clock.advance(1_000);
    expect(clock.started).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('while draining, no timer is pending when nothing is due: requests in flight and upgraded connections wait for events only', async () => {
    const { clock, tracker, open } = setup({ idleGraceMs: 250 });
    const busy = open('busy').conn;
    const ws = open('ws').conn;
    tracker.requestStarted(busy);
    tracker.connectionUpgraded(ws);
    const started = clock.started;
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(clock.started).toBe(started); // no poll over a minute
    tracker.requestFinished(busy); // idle now: one timer, at the end of its grace
    expect(clock.pendingTimers).toBe(1);
    tracker.requestStarted(busy); // busy again: nothing due, the timer goes
    expect(clock.pendingTimers).toBe(0);
    tracker.requestFinished(busy);
    tracker.connectionClosed(busy); // closed: nothing due
    expect(clock.pendingTimers).toBe(0);
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', upgradedForceClosed: 1 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('counts upgraded connections that close from shutdown on as closed, those destroyed at the deadline as cut', async () => {
    const { tracker, open } = setup();
    const before = open('closed-while-serving').conn;
    const answered = open('answered').conn;
    const silent = open('silent').conn;
    for (const conn of [before, answered, silent]) tracker.connectionUpgraded(conn);
    tracker.connectionClosed(before); // before shutdown: not part of the drain
    tracker.beginShutdown();
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    tracker.connectionClosed(answered);
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', upgradedAtStart: 2, upgradedClosed: 1, upgradedForceClosed: 1 });
  });

  it('an immediate stop (forceClose) does not count the upgraded connections it destroys as closed', async () => {
    const { tracker, open } = setup();
    tracker.connectionUpgraded(open('ws').conn);
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    expect(tracker.forceClose()).toBe(1);
    expect(await drained).toMatchObject({ upgradedClosed: 0 });
  });

  it('asks how many responses stream when the drain starts and at the deadline, before anything is destroyed', async () => {
    const { tracker, open } = setup();
    const conn = open('events').conn;
    tracker.requestStarted(conn);
    let streaming = 3;
    const asked: string[] = [];
    const deadline = new AbortController();
    const drained = tracker.drain({
      signal: deadline.signal,
      streaming: () => {
        asked.push(`asked with ${tracker.stats().connections} open`);
        return streaming;
      },
    });
    streaming = 1;
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', streamsAtStart: 3, streamsCut: 1 });
    expect(asked).toEqual(['asked with 1 open', 'asked with 1 open']);
    expect(() => setup().tracker.drain({ streaming: 3 as never })).toThrow(/streaming/);
  });

  it('reports no streams without a census, and none cut after a drain that ended in time', async () => {
    const { tracker } = setup();
    expect(await tracker.drain()).toMatchObject({ outcome: 'drained', streamsAtStart: 0, streamsCut: 0, upgradedClosed: 0 });
    const other = setup().tracker;
    expect(await other.drain({ streaming: () => 2 })).toMatchObject({ streamsAtStart: 2, streamsCut: 0 });
  });

  it('looks when the first grace ends, not per connection: one timer for many idle connections, each closed in turn', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250 });
    tracker.beginShutdown();
    const first = open('first');
    const second = open('second');
    const third = open('third');
    request(first.conn); // idle from 0
    await clock.advance(100);
    request(second.conn); // from 100
    await clock.advance(100);
    request(third.conn); // from 200
    const before = clock.started;
    const drained = watch(tracker.drain());
    expect(clock.pendingTimers).toBe(1);
    const closedAt = async (at: number) => {
      await clock.advance(at - clock.now());
      return [first, second, third].filter((c) => c.socket.events.length > 0).map((c) => c.socket.name);
    };
    expect(await closedAt(250)).toEqual([]);
    expect(await closedAt(250 + CONFIRM_MS)).toEqual(['first']);
    expect(await closedAt(350)).toEqual(['first']);
    expect(await closedAt(350 + CONFIRM_MS)).toEqual(['first', 'second']);
    expect(await closedAt(450 + CONFIRM_MS)).toEqual(['first', 'second', 'third']);
    // Three graces, three confirming looks: six timers, never more than one at a time.
    expect(clock.started - before).toBe(6);
    expect(clock.pendingTimers).toBe(0);
    for (const c of [first, second, third]) tracker.connectionClosed(c.conn);
    await clock.advance(0);
    expect(drained.value).toMatchObject({ outcome: 'drained', idleClosed: 3 });
  });

  it('a connection due sooner than the pending look brings the look forward', async () => {
    const { clock, tracker, open, request } = setup({ idleGraceMs: 250, preconnectGraceMs: 50 });
    const idle = open('idle');
    tracker.beginShutdown();
    request(idle.conn); // due at 250
    void tracker.drain();
    await clock.advance(100);
    const fresh = open('fresh'); // opened during the drain: due at 150
    await clock.advance(50 + CONFIRM_MS);
    expect([idle.socket.events, fresh.socket.events]).toEqual([[], ['close']]);
    await clock.advance(100);
    expect(idle.socket.events).toEqual(['close']);
  });
});

describe('ConnectionTracker: options', () => {
  it.each([
    ['idleGraceMs', -1],
    ['idleGraceMs', Number.NaN],
    ['preconnectGraceMs', Number.POSITIVE_INFINITY],
    ['clock', {}],
    ['onForce', 42],
  ])('rejects %s = %s with an error naming it', (option, value) => {
    const attempt = () => new ConnectionTracker({ [option]: value });
    expect(attempt).toThrow(DrainOptionError);
    expect(attempt).toThrow(expect.objectContaining({ option, value, code: 'QUIESCE_DRAIN_INVALID_OPTION' }));
    expect(attempt).toThrow(new RegExp(`^Invalid ${option}: `));
  });

  it.each([
    ['pollMinMs', 5],
    ['pollMaxMs', 500],
  ])('rejects the removed %s (the drain no longer polls), saying to remove it', (option, value) => {
    const attempt = () => new ConnectionTracker({ [option]: value } as never);
    expect(attempt).toThrow(expect.objectContaining({ option, value, code: 'QUIESCE_DRAIN_INVALID_OPTION' }));
    expect(attempt).toThrow(/no longer polls.*remove the option/);
  });

  it('rejects a socket closer without close/destroy and a non-signal deadline', () => {
    const { tracker } = setup();
    expect(() => tracker.socketOpened({}, { close: () => {} } as never)).toThrow(/Invalid closer/);
    expect(() => tracker.drain({ signal: 'soon' as never })).toThrow(/Invalid signal/);
  });
});
