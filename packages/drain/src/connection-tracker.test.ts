import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { ConnectionTracker } from './connection-tracker.ts';
import { DrainOptionError } from './errors.ts';

/** A fake socket is the real thing here: the tracker only ever sees this interface. */
function socket() {
  const events: string[] = [];
  let bytes = 0;
  return {
    events,
    receive(n: number) {
      bytes += n;
    },
    handle: {
      close: () => events.push('close'),
      destroy: () => events.push('destroy'),
      bytesRead: () => bytes,
      raw: { name: 'raw-socket' },
    },
  };
}

function setup(options: ConstructorParameters<typeof ConnectionTracker>[0] = {}) {
  const clock = new ManualClock();
  const tracker = new ConnectionTracker({ clock, ...options });
  return { clock, tracker };
}

describe('ConnectionTracker', () => {
  it('answers with Connection: close from beginShutdown on, and not before', () => {
    const { tracker } = setup();
    expect(tracker.closing).toBe(false);
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
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    const request = tracker.requestStarted(conn);
    const drained = tracker.drain();
    tracker.requestFinished(request);
    tracker.connectionClosed(conn);
    // The manual clock never moves here: a drain that waited for its next check would hang.
    const report = await drained;
    expect(report.outcome).toBe('drained');
    expect(report.requestsCompleted).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('waits for an in-flight request and finishes as soon as its connection closes', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    const request = tracker.requestStarted(conn);
    tracker.beginShutdown();
    let done = false;
    const drained = tracker.drain().then((r) => {
      done = true;
      return r;
    });
    await clock.advance(1_000);
    expect(done).toBe(false);
    expect(s.events).toEqual([]); // never closed while a request is in flight
    tracker.requestFinished(request);
    tracker.connectionClosed(conn); // the response carried Connection: close; the runtime closed it
    await clock.advance(0);
    const report = await drained;
    expect(report).toMatchObject({ outcome: 'drained', inFlightAtStart: 1, requestsCompleted: 1, requestsCut: 0, idleClosed: 0 });
    expect(report.durationMs).toBe(1_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps idle keep-alive connections open during the lame duck', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    tracker.requestFinished(tracker.requestStarted(conn));
    tracker.beginShutdown();
    await clock.advance(10_000);
    expect(s.events).toEqual([]);
  });

  it('closes an idle keep-alive connection with FIN after the idle grace, not before', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    tracker.requestFinished(tracker.requestStarted(conn));
    const drained = tracker.drain();
    await clock.advance(250);
    expect(s.events).toEqual([]); // idle past the grace: confirmed at the next check
    await clock.advance(5);
    expect(s.events).toEqual(['close']);
    tracker.connectionClosed(conn);
    await clock.advance(0);
    expect(await drained).toMatchObject({ outcome: 'drained', idleClosed: 1, preconnectsClosed: 0, forceClosed: 0 });
  });

  it('forgets an idle connection at once when its closer says it is closed for good, and ignores the later close report', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const released: string[] = [];
    const lingering: string[] = [];
    const a = tracker.connectionOpened({ close: () => released.push('close') > 0, destroy: () => {} });
    tracker.requestFinished(tracker.requestStarted(a));
    const drained = tracker.drain();
    await clock.advance(255);
    expect(released).toEqual(['close']);
    // No connectionClosed(a) yet: the closer returned true.
    expect(await drained).toMatchObject({ outcome: 'drained', idleClosed: 1, forceClosed: 0 });
    tracker.connectionClosed(a);
    expect(tracker.stats()).toMatchObject({ connections: 0, idle: 0 });

    // A closer that returns nothing (or false) is waited for until the runtime reports the close.
    const other = setup({ idleGraceMs: 250 });
    const b = other.tracker.connectionOpened({ close: () => void lingering.push('close'), destroy: () => {} });
    other.tracker.requestFinished(other.tracker.requestStarted(b));
    let settled = false;
    const waiting = other.tracker.drain().then((report) => {
      settled = true;
      return report;
    });
    await other.clock.advance(1_000);
    expect(lingering).toEqual(['close']);
    expect(settled).toBe(false);
    other.tracker.connectionClosed(b);
    expect(await waiting).toMatchObject({ outcome: 'drained', idleClosed: 1 });
  });

  it('counts idleness from the last response, so a long-idle socket closes at once', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    tracker.requestFinished(tracker.requestStarted(conn));
    await clock.advance(5_000);
    void tracker.drain();
    expect(s.events).toEqual([]);
    await clock.advance(5); // one poll later, after the I/O in between found nothing new
    expect(s.events).toEqual(['close']);
  });

  it('does not close a long-idle socket whose request arrives between the first check and the confirming one', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    tracker.requestFinished(tracker.requestStarted(conn));
    await clock.advance(5_000); // the event loop was busy: the request is still unread in the socket
    void tracker.drain();
    s.receive(60); // the I/O between two checks reads it
    await clock.advance(5);
    expect(s.events).toEqual([]);
  });

  it('closes a preconnected socket that never sent a request after the preconnect grace', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250, preconnectGraceMs: 50 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    const drained = tracker.drain();
    await clock.advance(50);
    expect(s.events).toEqual([]);
    await clock.advance(5);
    expect(s.events).toEqual(['close']);
    tracker.connectionClosed(conn);
    await clock.advance(0);
    expect(await drained).toMatchObject({ preconnectsClosed: 1, idleClosed: 0 });
  });

  it('does not close a socket on which a request is arriving but not yet parsed', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    tracker.requestFinished(tracker.requestStarted(conn));
    void tracker.drain();
    await clock.advance(200);
    s.receive(40); // half a request line arrived
    await clock.advance(200);
    expect(s.events).toEqual([]);
    await clock.advance(300);
    expect(s.events).toEqual(['close']);
  });

  it('never closes an upgraded connection as idle, hands it out, and destroys it at the deadline', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 10 });
    const s = socket();
    const conn = tracker.connectionOpened(s.handle);
    tracker.connectionUpgraded(conn);
    expect(tracker.upgradedConnections()).toEqual([{ name: 'raw-socket' }]);
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    await clock.advance(60_000);
    expect(s.events).toEqual([]);
    deadline.abort();
    const report = await drained;
    expect(s.events).toEqual(['destroy']);
    expect(report).toMatchObject({ outcome: 'forced', upgradedAtStart: 1, upgradedForceClosed: 1, forceClosed: 1 });
    expect(tracker.state).toBe('forced');
  });

  it('polls with backoff while waiting: few checks over a long wait, never a busy loop', async () => {
    const { clock, tracker } = setup({ pollMinMs: 5, pollMaxMs: 500 });
    const conn = tracker.connectionOpened(socket().handle);
    tracker.connectionUpgraded(conn);
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    await clock.advance(10_000);
    deadline.abort();
    const { checks } = await drained;
    // 5, 10, 20 … 320, then every 500 ms: about 27 checks in 10 s.
    expect(checks).toBeGreaterThan(10);
    expect(checks).toBeLessThan(40);
  });

  it('cuts in-flight requests at the deadline and records what was cut', async () => {
    const { clock, tracker } = setup();
    const a = socket();
    const b = socket();
    const connA = tracker.connectionOpened(a.handle);
    tracker.connectionOpened(b.handle);
    tracker.requestStarted(connA);
    tracker.requestStarted(connA);
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    await clock.advance(50);
    deadline.abort();
    const report = await drained;
    expect(a.events).toEqual(['destroy']);
    expect(report).toMatchObject({ outcome: 'forced', inFlightAtStart: 2, requestsCut: 2, requestsCompleted: 0 });
    expect(report.forceClosed).toBe(1 + (b.events.includes('destroy') ? 1 : 0));
    expect(clock.pendingTimers).toBe(0);
  });

  it('tracks requests without connections (runtimes that hide sockets) and calls onForce at the deadline', async () => {
    let forced = 0;
    const { tracker } = setup({ onForce: () => forced++ });
    tracker.requestStarted();
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', requestsCut: 1 });
    expect(forced).toBe(1);
  });

  it('waits for extra work (a runtime flush) without counting it as a request', async () => {
    const { clock, tracker } = setup();
    let flush: () => void = () => {};
    tracker.waitFor(new Promise<void>((resolve) => (flush = resolve)));
    let done = false;
    const drained = tracker.drain().then((r) => {
      done = true;
      return r;
    });
    await clock.advance(1_000);
    expect(done).toBe(false);
    flush();
    await clock.advance(0);
    expect(await drained).toMatchObject({ outcome: 'drained', requestsCompleted: 0, inFlightAtStart: 0 });
  });

  it('a closed connection ends its own requests in flight and no one else\'s', () => {
    const { tracker } = setup();
    const a = tracker.connectionOpened(socket().handle);
    const b = tracker.connectionOpened(socket().handle);
    tracker.requestStarted(a);
    tracker.requestStarted(a); // pipelined
    tracker.requestStarted(b);
    tracker.connectionClosed(a);
    expect(tracker.stats()).toMatchObject({ connections: 1, inFlight: 1 });
    expect(b.inFlight).toBe(1);
  });

  it('destroys connections accepted after the drain ended', async () => {
    const { tracker } = setup();
    await tracker.drain();
    const s = socket();
    tracker.connectionOpened(s.handle);
    expect(s.events).toEqual(['destroy']);
  });

  it('returns the same promise when drain is called twice', () => {
    const { tracker } = setup();
    expect(tracker.drain()).toBe(tracker.drain());
  });

  it('forceClose destroys every connection now', () => {
    const { tracker } = setup();
    const a = socket();
    tracker.connectionOpened(a.handle);
    expect(tracker.forceClose()).toBe(1);
    expect(a.events).toEqual(['destroy']);
    expect(tracker.stats().connections).toBe(0);
  });

  it('while serving, times activity without a clock reading per request, and still closes each socket on time', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 200, preconnectGraceMs: 200 }); // batches of 50 ms
    const old = socket();
    const recent = socket();
    const a = tracker.connectionOpened(old.handle);
    tracker.requestFinished(tracker.requestStarted(a));
    await clock.advance(1_000);
    const b = tracker.connectionOpened(recent.handle);
    tracker.requestFinished(tracker.requestStarted(b)); // at 1 000
    await clock.advance(100);
    const drained = tracker.drain();
    await clock.advance(5);
    expect(old.events).toEqual(['close']); // idle for a second: at once
    await clock.advance(115); // 1 220: within 200 ms of the end of its batch (1 050), so not yet
    expect(recent.events).toEqual([]);
    await clock.advance(80);
    expect(recent.events).toEqual(['close']);
    tracker.connectionClosed(a);
    tracker.connectionClosed(b);
    await clock.advance(0);
    expect(await drained).toMatchObject({ outcome: 'drained', idleClosed: 2 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('tracks a runtime socket through a shared closer, with no handle per connection', async () => {
    const { clock, tracker } = setup({ idleGraceMs: 250 });
    const events: string[] = [];
    const sockets = [
      { name: 'a', bytes: 0 },
      { name: 'b', bytes: 0 },
    ];
    type Fake = (typeof sockets)[number];
    const closer = {
      close: (s: Fake) => events.push(`close ${s.name}`),
      destroy: (s: Fake) => events.push(`destroy ${s.name}`),
      bytesRead: (s: Fake) => s.bytes,
    };
    const [a, b] = sockets.map((s) => tracker.socketOpened(s, closer));
    expect(a!.raw).toBe(sockets[0]);
    tracker.requestStartedOn(a!);
    tracker.requestStartedOn(b!);
    expect(tracker.stats()).toMatchObject({ connections: 2, inFlight: 2, idle: 0 });
    tracker.requestFinishedOn(a!);
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    await clock.advance(255);
    expect(events).toEqual(['close a']); // b still has its request in flight
    tracker.connectionClosed(a!);
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', inFlightAtStart: 1, requestsCut: 1, idleClosed: 1, forceClosed: 1 });
    expect(events).toEqual(['close a', 'destroy b']);
  });

  it('counts a request on a connection without a request object, once per start, and ignores ends after a close', () => {
    const { tracker } = setup();
    const conn = tracker.connectionOpened(socket().handle);
    tracker.requestStartedOn(conn);
    tracker.requestStartedOn(conn); // pipelined
    expect(conn).toMatchObject({ inFlight: 2, requests: 2 });
    tracker.requestFinishedOn(conn);
    expect(tracker.stats().inFlight).toBe(1);
    tracker.connectionClosed(conn); // ends the other one
    tracker.requestFinishedOn(conn);
    tracker.requestFinishedOn(conn);
    expect(tracker.stats()).toMatchObject({ connections: 0, inFlight: 0 });
    tracker.requestStartedOn(conn); // a closed connection takes no requests
    expect(tracker.stats().inFlight).toBe(0);
  });

  it('counts requests without an object or a connection: the drain waits for them, ends with the last, and cuts them at the deadline', async () => {
    const { clock, tracker } = setup();
    tracker.beginRequest();
    tracker.beginRequest();
    tracker.endRequest();
    expect(tracker.stats().inFlight).toBe(1);
    const drained = tracker.drain();
    await clock.advance(1_000);
    expect(tracker.state).toBe('draining'); // one is still in flight
    tracker.endRequest();
    expect(await drained).toMatchObject({ outcome: 'drained', inFlightAtStart: 1, requestsCompleted: 1, requestsCut: 0 });
    tracker.endRequest(); // one end too many: ignored
    expect(tracker.stats().inFlight).toBe(0);

    const second = setup();
    second.tracker.beginRequest();
    second.tracker.beginRequest();
    const deadline = new AbortController();
    const forced = second.tracker.drain({ signal: deadline.signal });
    second.tracker.endRequest();
    deadline.abort();
    expect(await forced).toMatchObject({ outcome: 'forced', inFlightAtStart: 2, requestsCompleted: 1, requestsCut: 1 });
    second.tracker.endRequest(); // the cut one ends late: ignored
    expect(second.tracker.stats().inFlight).toBe(0);
  });

  it('an upgrade ends the requests counted on the connection, and later ends of them are ignored', () => {
    const { tracker } = setup();
    const conn = tracker.connectionOpened(socket().handle);
    const request = tracker.requestStarted(conn);
    tracker.requestStartedOn(conn);
    tracker.connectionUpgraded(conn);
    expect(tracker.stats()).toMatchObject({ inFlight: 0, upgraded: 1 });
    tracker.requestFinished(request);
    tracker.requestFinishedOn(conn);
    expect(tracker.stats()).toMatchObject({ inFlight: 0, upgraded: 1, connections: 1 });
  });

  it('tells onClosing listeners once, synchronously, with the connections open when shutdown begins', () => {
    const { tracker } = setup();
    const a = tracker.connectionOpened(socket().handle);
    const b = tracker.connectionOpened(socket().handle);
    tracker.connectionClosed(b);
    const seen: (readonly unknown[])[] = [];
    tracker.onClosing((open) => seen.push(open));
    const off = tracker.onClosing(() => seen.push(['removed']));
    off();
    expect(seen).toEqual([]);
    tracker.beginShutdown();
    tracker.beginShutdown();
    expect(seen).toEqual([[a]]);
    tracker.onClosing((open) => seen.push(open)); // already closing: at once
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
    const conns: ReturnType<typeof tracker.connectionOpened>[] = [];
    // Closing the first one synchronously closes all of them (as a runtime may, from close()).
    const handle = (i: number) => ({
      close: () => {
        for (const c of conns) tracker.connectionClosed(c);
      },
      destroy: () => {},
      raw: i,
    });
    for (let i = 0; i < 3; i++) conns.push(tracker.connectionOpened(handle(i)));
    const drained = tracker.drain();
    await clock.advance(30);
    expect(await drained).toMatchObject({ outcome: 'drained', preconnectsClosed: 1 });
    expect(tracker.stats().connections).toBe(0);
    const later = tracker.connectionOpened({ close: () => {}, destroy: () => {} });
    expect(later.raw).toBeUndefined();
  });

  it('ignores reports about objects that are not its connections', () => {
    const { tracker } = setup();
    tracker.connectionOpened(socket().handle);
    const stranger = { id: 1, raw: null, upgraded: false, inFlight: 0, requests: 0 };
    tracker.connectionClosed(stranger);
    tracker.connectionUpgraded(stranger);
    tracker.requestStartedOn(stranger);
    tracker.requestFinishedOn(stranger);
    tracker.requestFinished(tracker.requestStarted(stranger));
    expect(tracker.stats()).toMatchObject({ connections: 1, upgraded: 0, inFlight: 0 });
  });

  it('rejects a socket closer without close/destroy', () => {
    const { tracker } = setup();
    expect(() => tracker.socketOpened({}, { close: () => {} } as never)).toThrow(/Invalid closer/);
  });

  it.each([
    ['idleGraceMs', -1],
    ['idleGraceMs', Number.NaN],
    ['preconnectGraceMs', Number.POSITIVE_INFINITY],
    ['pollMinMs', 0],
    ['pollMaxMs', 'soon'],
    ['onForce', 42],
  ])('rejects %s = %s with an error naming it', (option, value) => {
    const attempt = () => new ConnectionTracker({ [option]: value });
    expect(attempt).toThrow(DrainOptionError);
    expect(attempt).toThrow(option);
    try {
      attempt();
    } catch (error) {
      expect((error as DrainOptionError).option).toBe(option);
      expect((error as DrainOptionError).code).toBe('QUIESCE_DRAIN_INVALID_OPTION');
    }
  });

  it('rejects a handle without close/destroy and a non-signal deadline', () => {
    const { tracker } = setup();
    expect(() => tracker.connectionOpened({} as never)).toThrow(/Invalid handle/);
    expect(() => tracker.drain({ signal: 'soon' as never })).toThrow(/Invalid signal/);
  });
});
