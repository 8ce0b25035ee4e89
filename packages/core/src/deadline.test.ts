import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.ts';
import { Deadline } from './deadline.ts';
import { DeadlineExceededError, InvalidOptionError } from './errors.ts';
import { ManualClock } from './manual-clock.ts';

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('Deadline', () => {
  it('counts down remainingMs on its clock and aborts with DeadlineExceededError when the time is up', async () => {
    const clock = new ManualClock(500);
    const deadline = new Deadline({ timeoutMs: 1_000, clock });
    expect(deadline.expiresAt).toBe(1_500);
    expect(deadline.remainingMs()).toBe(1_000);
    expect(deadline.expired).toBe(false);

    await clock.advance(400);
    expect(deadline.remainingMs()).toBe(600);
    expect(deadline.expired).toBe(false);

    await clock.advance(599);
    expect(deadline.expired).toBe(false);
    await clock.advance(1);

    expect(deadline.expired).toBe(true);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.signal.reason).toBeInstanceOf(DeadlineExceededError);
    expect(deadline.signal.reason).toMatchObject({
      name: 'DeadlineExceededError',
      code: 'QUIESCE_DEADLINE_EXCEEDED',
      timeoutMs: 1_000,
    });
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires its abort event exactly once', async () => {
    const clock = new ManualClock();
    const deadline = new Deadline({ timeoutMs: 10, clock });
    let aborts = 0;
    deadline.signal.addEventListener('abort', () => aborts++);

    await clock.advance(100);

    expect(aborts).toBe(1);
  });

  it('has no time limit and starts no timer without timeoutMs', async () => {
    const clock = new ManualClock();
    const deadline = new Deadline({ clock });

    expect(deadline.expiresAt).toBeUndefined();
    expect(deadline.remainingMs()).toBe(Number.POSITIVE_INFINITY);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1e9);
    expect(deadline.expired).toBe(false);
  });

  it('aborts with the outer signal’s reason when the outer signal aborts, and clears its timer', () => {
    const clock = new ManualClock();
    const outer = new AbortController();
    const deadline = new Deadline({ timeoutMs: 1_000, signal: outer.signal, clock });
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('SIGTERM twice');

    outer.abort(reason);

    expect(deadline.expired).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
    expect(deadline.remainingMs()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('is aborted from the start, with no timer, when the outer signal is already aborted', () => {
    const clock = new ManualClock();
    const reason = new Error('too late');
    const deadline = new Deadline({ timeoutMs: 1_000, signal: AbortSignal.abort(reason), clock });

    expect(deadline.expired).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
    expect(deadline.remainingMs()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('dispose() clears the timer and detaches from the outer signal; it can be called twice', async () => {
    const clock = new ManualClock();
    const outer = new AbortController();
    const deadline = new Deadline({ timeoutMs: 100, signal: outer.signal, clock });
    expect(clock.pendingTimers).toBe(1);

    deadline.dispose();
    deadline.dispose();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1_000);
    outer.abort(new Error('after dispose'));

    expect(deadline.expired).toBe(false);
  });

  it('dispose() after expiry keeps the signal aborted', async () => {
    const clock = new ManualClock();
    const deadline = new Deadline({ timeoutMs: 10, clock });
    await clock.advance(10);

    deadline.dispose();

    expect(deadline.signal.aborted).toBe(true);
  });

  it('aborts on the real clock too', async () => {
    const deadline = new Deadline({ timeoutMs: 5, clock: systemClock });
    const reason = await new Promise((resolve) => {
      deadline.signal.addEventListener('abort', () => resolve(deadline.signal.reason), { once: true });
    });

    expect(reason).toBeInstanceOf(DeadlineExceededError);
  });

  it('refuses bad options with InvalidOptionError naming the option and the value', () => {
    const cases: [() => unknown, string, string][] = [
      [() => new Deadline({ timeoutMs: -5 }), 'timeoutMs', '-5'],
      [() => new Deadline({ timeoutMs: Number.NaN }), 'timeoutMs', 'NaN'],
      [() => new Deadline({ timeoutMs: Number.POSITIVE_INFINITY }), 'timeoutMs', 'Infinity'],
      [() => new Deadline({ signal: 'stop' as unknown as AbortSignal }), 'signal', '"stop"'],
      [() => new Deadline({ clock: {} as ManualClock }), 'clock', '{}'],
      [() => new Deadline(null as unknown as object), 'options', 'null'],
      [() => new Deadline([] as unknown as object), 'options', '[]'],
    ];
    for (const [create, option, shown] of cases) {
      const error = catchError(create);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toMatchObject({ option, code: 'QUIESCE_INVALID_OPTION' });
      expect((error as Error).message).toContain(`Invalid ${option}: ${shown}.`);
    }
  });
});
