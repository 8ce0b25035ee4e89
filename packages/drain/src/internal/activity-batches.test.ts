import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { ActivityBatches } from './activity-batches.ts';
import { ConnectionRecord, GONE, handleCloser } from './connection-record.ts';

function record(bytes: { n: number }) {
  return new ConnectionRecord(1, { close() {}, destroy() {}, bytesRead: () => bytes.n }, handleCloser as never);
}

describe('ActivityBatches', () => {
  it('stamps noted connections at the end of the batch: never before the activity, at most a batch after', async () => {
    const clock = new ManualClock();
    const batches = new ActivityBatches(clock, 10);
    const bytes = { n: 0 };
    const a = record(bytes);
    await clock.advance(3);
    batches.note(a); // the batch ends at 13
    bytes.n = 40;
    await clock.advance(9);
    expect(a.lastActivity).toBe(0);
    await clock.advance(1);
    expect(a).toMatchObject({ lastActivity: 13, lastBytes: 40 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs one timer per batch however many connections are noted, and none while nothing happens', async () => {
    const clock = new ManualClock();
    const batches = new ActivityBatches(clock, 10);
    const records = Array.from({ length: 100 }, () => record({ n: 0 }));
    expect(clock.pendingTimers).toBe(0);
    for (let i = 0; i < 10; i++) for (const r of records) batches.note(r);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10);
    expect(clock.pendingTimers).toBe(0);
    expect(records.every((r) => r.lastActivity === 10)).toBe(true);
  });

  it('settles at once on demand, leaves the bytes of a busy connection and skips a closed one', async () => {
    const clock = new ManualClock();
    const batches = new ActivityBatches(clock, 10);
    const bytes = { n: 7 };
    const busy = record(bytes);
    const gone = record(bytes);
    busy.inFlight = 1;
    batches.note(busy);
    batches.note(gone);
    gone.flags |= GONE;
    await clock.advance(4);
    batches.settle();
    expect(busy).toMatchObject({ lastActivity: 4, lastBytes: 0 });
    expect(gone.lastActivity).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
