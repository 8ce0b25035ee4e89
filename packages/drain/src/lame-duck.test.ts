import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { DrainOptionError } from './errors.ts';
import { lameDuck } from './lame-duck.ts';

describe('lameDuck', () => {
  it('waits the given time, then leaves no timer behind', async () => {
    const clock = new ManualClock();
    let over = false;
    const wait = lameDuck(1_000, { clock }).then(() => {
      over = true;
    });
    await clock.advance(999);
    expect(over).toBe(false);
    await clock.advance(1);
    await wait;
    expect(over).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends early when the deadline aborts', async () => {
    const clock = new ManualClock();
    const deadline = new AbortController();
    const wait = lameDuck(60_000, { clock, signal: deadline.signal });
    deadline.abort();
    await wait;
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects a negative duration naming lameDuckMs', () => {
    expect(() => lameDuck(-1)).toThrow(DrainOptionError);
    expect(() => lameDuck(-1)).toThrow(/lameDuckMs/);
  });
});
