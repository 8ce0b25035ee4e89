import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.ts';

const realDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('systemClock', () => {
  it('fires a short timer once and never fires a cleared one', async () => {
    let fired = 0;
    let cleared = 0;
    systemClock.setTimeout(() => fired++, 1);
    const handle = systemClock.setTimeout(() => cleared++, 1);
    systemClock.clearTimeout(handle);

    await realDelay(30);

    expect(fired).toBe(1);
    expect(cleared).toBe(0);
  });

  it('does not cut a delay beyond the 32-bit timer limit to 1 ms (runtimes do, for their own timers)', async () => {
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, 3_000_000_000);

    await realDelay(50);
    systemClock.clearTimeout(handle);

    expect(fired).toBe(false);
  });

  it('reads a monotonic time', () => {
    const first = systemClock.now();
    const second = systemClock.now();
    expect(second).toBeGreaterThanOrEqual(first);
  });
});
