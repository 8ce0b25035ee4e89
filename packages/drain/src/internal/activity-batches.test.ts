import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { ActivityBatches } from './activity-batches.ts';
import { ConnectionList } from './connection-list.ts';
import { ConnectionRecord, UNSETTLED } from './connection-record.ts';

function record(bytes: { n: number }) {
  return new ConnectionRecord(bytes, { owner: {}, closer: { close() {}, destroy() {}, bytesRead: (b: { n: number }) => b.n } as never });
}

/** Appends `r` to `list` and notes it, as the tracker does when a connection opens or goes idle. */
function enter(batches: ActivityBatches, list: ConnectionList, r: ConnectionRecord) {
  list.push(r);
  batches.note(r);
}

describe('ActivityBatches', () => {
  it('stamps noted connections at the end of the batch: never before the activity, at most a batch after', async () => {
    const clock = new ManualClock();
    const list = new ConnectionList();
    const batches = new ActivityBatches(clock, 10, [list]);
    const bytes = { n: 0 };
    const a = record(bytes);
    await clock.advance(3);
    enter(batches, list, a); // the batch ends at 13
    bytes.n = 40;
    await clock.advance(9);
    expect(a.lastActivity).toBe(0);
    await clock.advance(1);
    expect(a).toMatchObject({ lastActivity: 13, lastBytes: 40 });
    expect(a.bits & UNSETTLED).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs one timer per batch however many connections are noted, and none while nothing happens', async () => {
    const clock = new ManualClock();
    const list = new ConnectionList();
    const batches = new ActivityBatches(clock, 10, [list]);
    const records = Array.from({ length: 100 }, () => record({ n: 0 }));
    expect(clock.pendingTimers).toBe(0);
    for (let i = 0; i < 10; i++) {
      for (const r of records) {
        if (r.prev !== undefined || list.head === r) list.remove(r);
        enter(batches, list, r);
      }
    }
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10);
    expect(clock.pendingTimers).toBe(0);
    expect(records.every((r) => r.lastActivity === 10)).toBe(true);
  });

  it('stamps only the noted tail of each list, and settles at once on demand', async () => {
    const clock = new ManualClock();
    const fresh = new ConnectionList();
    const idle = new ConnectionList();
    const batches = new ActivityBatches(clock, 10, [fresh, idle]);
    const earlier = record({ n: 1 });
    idle.push(earlier); // stamped in an earlier batch
    earlier.lastActivity = 0;
    await clock.advance(4);
    const a = record({ n: 2 });
    const b = record({ n: 3 });
    enter(batches, fresh, a);
    enter(batches, idle, b);
    await clock.advance(2);
    batches.settle();
    expect([a.lastActivity, a.lastBytes, b.lastActivity, b.lastBytes]).toEqual([6, 2, 6, 3]);
    expect(earlier).toMatchObject({ lastActivity: 0, lastBytes: 0 });
    expect(clock.pendingTimers).toBe(0);
  });
});
