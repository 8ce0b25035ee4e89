import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.ts';
import { InvalidOptionError } from './errors.ts';
import { ManualClock } from './manual-clock.ts';

describe('ManualClock', () => {
  it('is a Clock: it goes wherever a clock option is taken', () => {
    const clock: Clock = new ManualClock(7);

    expect(clock.now()).toBe(7);
  });

  it('moves only when advanced, and fires due timers in time order at their own time', async () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`a2@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 50);
    expect(clock.now()).toBe(100);
    expect(clock.pendingTimers).toBe(4);

    await clock.advance(30);

    expect(fired).toEqual(['a@110', 'a2@110', 'b@120']);
    expect(clock.now()).toBe(130);
    expect(clock.pendingTimers).toBe(1);
  });

  it('runs promise callbacks between timers, so chained waits add up within one advance', async () => {
    const clock = new ManualClock();
    const wait = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
    const times: number[] = [];
    const chain = (async () => {
      await wait(10);
      times.push(clock.now());
      await wait(10);
      times.push(clock.now());
    })();

    await clock.advance(20);
    await chain;

    expect(times).toEqual([10, 20]);
  });

  it('never fires a cleared timer', async () => {
    const clock = new ManualClock();
    let fired = false;
    const handle = clock.setTimeout(() => {
      fired = true;
    }, 10);
    clock.clearTimeout(handle);
    clock.clearTimeout(handle);
    clock.clearTimeout('not a handle');

    await clock.advance(100);

    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('treats a NaN or negative delay as 0, like the global setTimeout, and keeps its time a number', async () => {
    const clock = new ManualClock(5);
    const at: number[] = [];
    clock.setTimeout(() => at.push(clock.now()), Number.NaN);
    clock.setTimeout(() => at.push(clock.now()), -10);

    await clock.advance(0);

    expect(at).toEqual([5, 5]);
    expect(clock.now()).toBe(5);
  });

  it('refuses a non-finite start or a negative, non-finite advance with InvalidOptionError naming the value', async () => {
    expect(() => new ManualClock(Number.NaN)).toThrow(InvalidOptionError);
    expect(() => new ManualClock(Number.NaN)).toThrow('Invalid start: NaN.');
    const clock = new ManualClock();
    await expect(clock.advance(-1)).rejects.toThrow(InvalidOptionError);
    await expect(clock.advance(-1)).rejects.toThrow('Invalid ms: -1.');
    await expect(clock.advance(Number.POSITIVE_INFINITY)).rejects.toThrow(InvalidOptionError);
    expect(clock.now()).toBe(0);
  });
});
