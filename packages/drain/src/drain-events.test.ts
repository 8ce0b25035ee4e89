// The drain's side of the event catalog: quiesce:drain:connection-closed (once per connection, from
// shutdown on, with how it closed), quiesce:drain:progress (after each look) and quiesce:drain:end
// (the report). A manual clock and fake sockets, as in connection-tracker.test.ts.
import { type ConnectionClosedMessage, quiesceChannels } from '@quiesce/core';
import { ManualClock } from '@quiesce/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { SocketCloser, TrackedConnection } from './connection-handle.ts';
import { ConnectionTracker } from './connection-tracker.ts';
import { CONFIRM_MS } from './internal/confirm-delay.ts';

interface FakeSocket {
  readonly name: string;
  readonly events: string[];
  /** What `close()` returns: `true` = closed for good on return. */
  closesAtOnce?: boolean;
  /** Called inside `close()`: a runtime that reports the close before `close()` returns. */
  onClose?: () => void;
}

const closer: SocketCloser<FakeSocket> = {
  close: (socket) => {
    socket.events.push('close');
    socket.onClose?.();
    return socket.closesAtOnce === true;
  },
  destroy: (socket) => {
    socket.events.push('destroy');
  },
  bytesRead: () => 0,
};

type Published = [name: string, message: unknown];
const unsubscribes: (() => void)[] = [];
afterEach(() => {
  for (const off of unsubscribes.splice(0)) off();
});

/** Records the drain's messages, in the order they come, until the test ends. */
function record(): Published[] {
  const got: Published[] = [];
  for (const channel of [quiesceChannels.connectionClosed, quiesceChannels.drainProgress, quiesceChannels.drainEnd]) {
    const listener = (message: unknown, name: string): void => {
      got.push([name, message]);
    };
    channel.subscribe(listener);
    unsubscribes.push(() => channel.unsubscribe(listener));
  }
  return got;
}

function setup() {
  const clock = new ManualClock();
  const tracker = new ConnectionTracker({ clock, idleGraceMs: 250, preconnectGraceMs: 100 });
  const open = (name: string, extra: Partial<FakeSocket> = {}): { socket: FakeSocket; conn: TrackedConnection } => {
    const socket: FakeSocket = { name, events: [], ...extra };
    return { socket, conn: tracker.socketOpened(socket, closer) };
  };
  return { clock, tracker, open };
}

const closedMessages = (got: Published[]): ConnectionClosedMessage[] =>
  got.filter(([name]) => name === 'quiesce:drain:connection-closed').map(([, m]) => m as ConnectionClosedMessage);

describe('quiesce:drain:connection-closed', () => {
  it('tells how each connection closed during shutdown: peer, response-last, preconnect, idle, forced (none while serving)', async () => {
    const { clock, tracker, open } = setup();
    const got = record();
    const idle = open('idle');
    tracker.requestStarted(idle.conn);
    tracker.requestFinished(idle.conn);
    const preconnect = open('preconnect', { closesAtOnce: true });
    const answered = open('answered');
    tracker.requestStarted(answered.conn);
    const gone = open('gone');
    tracker.requestStarted(gone.conn);
    tracker.requestFinished(gone.conn);
    const busy = open('busy');
    tracker.requestStarted(busy.conn);
    const ws = open('ws');
    tracker.connectionUpgraded(ws.conn);
    const early = open('early');
    tracker.connectionClosed(early.conn); // while serving: not part of a shutdown
    expect(got).toEqual([]);

    tracker.beginShutdown();
    tracker.connectionClosed(gone.conn); // the client went, no response since the shutdown began
    tracker.requestFinished(answered.conn); // this response said Connection: close …
    tracker.connectionClosed(answered.conn); // … and the connection closed after it
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    await clock.advance(100 + CONFIRM_MS); // the preconnect grace, then the confirming look
    await clock.advance(150 + CONFIRM_MS); // the idle grace, then the confirming look
    expect(idle.socket.events).toEqual(['close']);
    tracker.connectionClosed(idle.conn); // the runtime reports the close the drain asked for
    tracker.connectionClosed(ws.conn); // the WebSocket closed itself
    deadline.abort();
    const report = await drained;

    expect(closedMessages(got)).toEqual([
      { how: 'peer', inFlight: 0, upgraded: false },
      { how: 'response-last', inFlight: 0, upgraded: false },
      { how: 'preconnect', inFlight: 0, upgraded: false },
      { how: 'idle', inFlight: 0, upgraded: false },
      { how: 'peer', inFlight: 0, upgraded: true },
      { how: 'forced', inFlight: 1, upgraded: false },
    ]);
    expect(report).toMatchObject({ outcome: 'forced', idleClosed: 1, preconnectsClosed: 1, forceClosed: 1, requestsCut: 1 });
  });

  it('a connection whose FIN is out when the deadline comes stays idle: one message per connection', async () => {
    const { clock, tracker, open } = setup();
    const got = record();
    const lingering = open('lingering');
    tracker.requestStarted(lingering.conn);
    tracker.requestFinished(lingering.conn);
    const deadline = new AbortController();
    const drained = tracker.drain({ signal: deadline.signal });
    await clock.advance(250 + CONFIRM_MS);
    expect(lingering.socket.events).toEqual(['close']); // asked to close; the runtime has not reported it
    deadline.abort();
    await drained;
    tracker.connectionClosed(lingering.conn); // late: ignored
    expect(lingering.socket.events).toEqual(['close', 'destroy']);
    expect(closedMessages(got)).toEqual([{ how: 'idle', inFlight: 0, upgraded: false }]);
  });

  it('a runtime that reports the close inside close() still gets one idle message', async () => {
    const { clock, tracker, open } = setup();
    const got = record();
    const quick = open('quick', { onClose: () => tracker.connectionClosed(quick.conn) });
    tracker.requestStarted(quick.conn);
    tracker.requestFinished(quick.conn);
    const drained = tracker.drain();
    await clock.advance(250 + CONFIRM_MS);
    expect(await drained).toMatchObject({ outcome: 'drained', idleClosed: 1 });
    expect(closedMessages(got)).toEqual([{ how: 'idle', inFlight: 0, upgraded: false }]);
  });

  it('an immediate stop (forceClose) during shutdown publishes forced with the requests it cuts; while serving, nothing', () => {
    const serving = setup();
    const got = record();
    serving.open('a');
    expect(serving.tracker.forceClose()).toBe(1);
    expect(got).toEqual([]);

    const { tracker, open } = setup();
    const busy = open('busy');
    tracker.requestStarted(busy.conn);
    tracker.requestStarted(busy.conn); // pipelined
    open('fresh');
    tracker.beginShutdown();
    expect(tracker.forceClose()).toBe(2);
    expect(busy.socket.events).toEqual(['destroy']);
    expect(closedMessages(got)).toEqual([
      { how: 'forced', inFlight: 0, upgraded: false },
      { how: 'forced', inFlight: 2, upgraded: false },
    ]);
  });
});

describe('quiesce:drain:progress and quiesce:drain:end', () => {
  it('publishes the counts after each look that does not end the drain, then the report itself', async () => {
    const { clock, tracker, open } = setup();
    const got = record();
    const idle = open('idle', { closesAtOnce: true });
    tracker.requestStarted(idle.conn);
    tracker.requestFinished(idle.conn);
    const busy = open('busy');
    tracker.requestStarted(busy.conn);
    const drained = tracker.drain();
    const progress = (): unknown[] => got.filter(([name]) => name === 'quiesce:drain:progress').map(([, m]) => m);
    // The first look, at once: nothing is due yet.
    expect(progress()).toEqual([{ state: 'draining', connections: 2, idle: 1, upgraded: 0, inFlight: 1 }]);
    await clock.advance(250); // due: confirmed at the next look
    await clock.advance(CONFIRM_MS); // closed for good on return
    expect(progress()).toEqual([
      { state: 'draining', connections: 2, idle: 1, upgraded: 0, inFlight: 1 },
      { state: 'draining', connections: 2, idle: 1, upgraded: 0, inFlight: 1 },
      { state: 'draining', connections: 1, idle: 0, upgraded: 0, inFlight: 1 },
    ]);
    tracker.requestFinished(busy.conn);
    tracker.connectionClosed(busy.conn); // the last one: the drain ends on this event, not at a look
    const report = await drained;
    const ends = got.filter(([name]) => name === 'quiesce:drain:end').map(([, m]) => m);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toBe(report);
    expect(got.at(-1)?.[0]).toBe('quiesce:drain:end');
  });

  it('publishes the end of a drain that had nothing to wait for, without a progress message', async () => {
    const { tracker } = setup();
    const got = record();
    const report = await tracker.drain();
    expect(got).toEqual([['quiesce:drain:end', report]]);
  });
});
