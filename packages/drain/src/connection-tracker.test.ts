import { ManualClock } from '@quiesce/hooks';
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
