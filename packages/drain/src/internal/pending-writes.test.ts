import { ManualClock } from '@quiesce/core/testing';
import { ConnectionTracker } from '../connection-tracker.ts';
import { describe, expect, it } from 'vitest';
import { PendingWrites } from './pending-writes.ts';

/** Bun's `pendingRequests` stand-in: a number the test moves, as Bun's writes progress. */
function setup() {
  const clock = new ManualClock();
  const tracker = new ConnectionTracker({ clock });
  const bun = { pending: 0, active: 0 };
  const writes = new PendingWrites(
    tracker,
    clock,
    () => bun.pending,
    () => bun.active,
  );
  return { clock, tracker, bun, writes };
}

describe('PendingWrites', () => {
  it('before shutdown, ends a request as soon as its response is handed to Bun, without polling', () => {
    const { clock, tracker, writes } = setup();
    tracker.requestStarted();
    writes.handedOver();
    expect(tracker.stats().inFlight).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('during shutdown, keeps a request in flight until Bun has written it', async () => {
    const { clock, tracker, bun, writes } = setup();
    tracker.beginShutdown();
    bun.pending = 1;
    tracker.requestStarted();
    writes.handedOver();
    await clock.advance(200);
    expect(tracker.stats().inFlight).toBe(1);
    bun.pending = 0;
    await clock.advance(50);
    expect(tracker.stats().inFlight).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('counts requests still in the handler as Bun-pending but not as writes', async () => {
    const { clock, tracker, bun, writes } = setup();
    tracker.beginShutdown();
    tracker.requestStarted(); // in the handler: the adapter ends it itself
    bun.active = 1;
    bun.pending = 2;
    tracker.requestStarted();
    writes.handedOver();
    await clock.advance(10);
    expect(tracker.stats().inFlight).toBe(2);
    bun.pending = 1;
    await clock.advance(50);
    expect(tracker.stats().inFlight).toBe(1);
  });

  it('adopts writes Bun had under way before shutdown, so the drain waits for them too', async () => {
    const { clock, tracker, bun, writes } = setup();
    bun.pending = 2;
    writes.track();
    expect(tracker.stats().inFlight).toBe(2);
    bun.pending = 0;
    await clock.advance(100);
    expect(tracker.stats().inFlight).toBe(0);
  });

  it('stop() finishes every write it holds and stops polling (forced stop, dispose)', () => {
    const { clock, tracker, bun, writes } = setup();
    tracker.beginShutdown();
    bun.pending = 3;
    tracker.requestStarted();
    writes.handedOver();
    writes.track();
    expect(tracker.stats().inFlight).toBe(3);
    writes.stop();
    expect(tracker.stats().inFlight).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    tracker.requestStarted();
    writes.handedOver();
    expect(tracker.stats().inFlight).toBe(0);
  });
});
