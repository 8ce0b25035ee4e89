import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { DrainOptionError } from './errors.ts';
import { WebSocketFarewell, type WebSocketCloser, webSocketCloseCode } from './websocket-farewell.ts';

/** A stand-in WebSocket that records what it was told; `answer()` is the peer's Close frame. */
class FakeSocket {
  readonly events: string[] = [];
  constructor(readonly farewell: WebSocketFarewell) {}
  answer(): void {
    this.events.push('closed');
    this.farewell.closed(this);
  }
}

const closer: WebSocketCloser<FakeSocket> = {
  close: (ws, code, reason) => ws.events.push(`close ${code} ${reason}`),
  end: (ws) => ws.events.push('FIN'),
};

function setup(closeTimeoutMs = 1_000) {
  const clock = new ManualClock();
  const farewell = new WebSocketFarewell({ closeTimeoutMs, clock });
  const open = (): FakeSocket => {
    const ws = new FakeSocket(farewell);
    farewell.opened(ws, closer);
    return ws;
  };
  return { clock, farewell, open };
}

describe('webSocketCloseCode', () => {
  it('is 1001 (Going Away) for a shutdown and 1012 (Service Restart) for a restart', () => {
    expect(webSocketCloseCode('shutdown')).toBe(1001);
    expect(webSocketCloseCode(undefined)).toBe(1001);
    expect(webSocketCloseCode('restart')).toBe(1012);
  });
});

describe('WebSocketFarewell', () => {
  it('sends every open WebSocket a Close frame with 1001 and resolves once all answered, with no timer left', async () => {
    const { farewell, open, clock } = setup();
    const [a, b] = [open(), open()];
    const done = farewell.closeAll({ reason: 'shutdown' });
    expect(a.events).toEqual(['close 1001 server shutting down']);
    expect(b.events).toEqual(['close 1001 server shutting down']);
    a.answer();
    b.answer();
    expect(await done).toEqual({ told: 2, unanswered: 0 });
    expect(clock.pendingTimers).toBe(0);
    expect(farewell.open).toBe(0);
  });

  it('sends 1012 (Service Restart) for a restart', async () => {
    const { farewell, open } = setup();
    const ws = open();
    const done = farewell.closeAll({ reason: 'restart' });
    ws.answer();
    await done;
    expect(ws.events[0]).toBe('close 1012 server restarting');
  });

  it('ends with FIN the WebSockets whose peer did not answer within closeTimeoutMs, and only those', async () => {
    const { farewell, open, clock } = setup(500);
    const [answers, silent] = [open(), open()];
    const done = farewell.closeAll();
    answers.answer();
    await clock.advance(499);
    expect(silent.events).toEqual(['close 1001 server shutting down']);
    await clock.advance(1);
    expect(await done).toEqual({ told: 2, unanswered: 1 });
    expect(silent.events).toEqual(['close 1001 server shutting down', 'FIN']);
    expect(answers.events).toEqual(['close 1001 server shutting down', 'closed']);
  });

  it('counts a silent peer as unanswered where the kind cannot end it (the runtime ends it with the listener)', async () => {
    const { farewell, clock } = setup(100);
    const told: string[] = [];
    farewell.opened('deno socket', { close: (_ws: string, code: number) => told.push(String(code)) });
    const done = farewell.closeAll();
    await clock.advance(100);
    expect(await done).toEqual({ told: 1, unanswered: 1 });
    expect(told).toEqual(['1001']);
  });

  it('stops waiting when the deadline aborts, leaving what is open to the drain (no FIN from here)', async () => {
    const { farewell, open, clock } = setup();
    const ws = open();
    const deadline = new AbortController();
    const done = farewell.closeAll({ signal: deadline.signal });
    deadline.abort();
    expect(await done).toEqual({ told: 1, unanswered: 0 });
    expect(ws.events).toEqual(['close 1001 server shutting down']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('resolves at once with nothing open, and is idempotent', async () => {
    const { farewell, clock } = setup();
    const first = farewell.closeAll();
    expect(farewell.closeAll({ reason: 'restart' })).toBe(first);
    expect(await first).toEqual({ told: 0, unanswered: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('closes a WebSocket that opens after the farewell began at once, with the same code', async () => {
    const { farewell, open } = setup();
    const done = farewell.closeAll({ reason: 'restart' });
    expect(farewell.closing).toBe(true);
    const late = open();
    expect(late.events).toEqual(['close 1012 server restarting']);
    await done;
  });

  it('counts a closer that throws as told, and goes on with the others', async () => {
    const { farewell, open, clock } = setup(10);
    farewell.opened('broken', {
      close: () => {
        throw new Error('gone');
      },
    });
    const ws = open();
    const done = farewell.closeAll();
    ws.answer();
    farewell.closed('broken');
    await clock.advance(10);
    expect(await done).toEqual({ told: 2, unanswered: 0 });
  });

  it('refuses bad options and closers with a DrainOptionError naming them', () => {
    expect(() => new WebSocketFarewell({ closeTimeoutMs: -1 })).toThrow(DrainOptionError);
    expect(() => new WebSocketFarewell({ closeTimeoutMs: -1 })).toThrow(/closeTimeoutMs/);
    const farewell = new WebSocketFarewell();
    expect(() => farewell.opened('ws', {} as WebSocketCloser<string>)).toThrow(/closer/);
    expect(() => farewell.closeAll({ signal: 'soon' as unknown as AbortSignal })).toThrow(/signal/);
  });
});
