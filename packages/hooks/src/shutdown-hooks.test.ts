import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, quiesceChannels, systemClock } from '@quiesce/core';
import { ManualClock } from '@quiesce/core/testing';
import { HooksOptionError, HooksStateError, HookTimeoutError } from './errors.ts';
import type { HooksEvent } from './events.ts';
import type { HookResult, HooksReport } from './report.ts';
import { createShutdownHooks, type ShutdownHooks } from './shutdown-hooks.ts';

/** Resolves after `ms` on `clock`; on abort it clears its timer and rejects with the reason. */
function sleep(clock: ManualClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clock.clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** A hook that never settles and ignores its signal. */
const never = (): Promise<never> => new Promise<never>(() => {});

/** Follows a promise without awaiting it, so a test can ask whether it has settled yet. */
function track<T>(promise: Promise<T>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

/** One line per event, e.g. `hook-end b1@300 ok`, so that order and times read at a glance. */
function describeEvent(event: HooksEvent): string {
  switch (event.type) {
    case 'phase-start':
      return `phase-start ${event.phase}@${event.at}`;
    case 'phase-end':
      return `phase-end ${event.phase}@${event.at}`;
    case 'hook-start':
      return `hook-start ${event.hook}@${event.at}`;
    case 'hook-end':
      return `hook-end ${event.hook}@${event.at} ${event.result.status}`;
    case 'run-end':
      return `run-end @${event.at}`;
  }
}

function hookResult(report: HooksReport, name: string): HookResult {
  const result = report.hooks.find((hook) => hook.name === name);
  if (!result) throw new Error(`no result for hook ${name}`);
  return result;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** Asserts a HooksOptionError that names `option` and shows `shown` (the value as printed). */
function expectOptionError(fn: () => unknown, option: string, value: unknown, shown: string): void {
  const error = catchError(fn);
  expect(error).toBeInstanceOf(HooksOptionError);
  const optionError = error as HooksOptionError;
  expect(optionError.name).toBe('HooksOptionError');
  expect(optionError.code).toBe('QUIESCE_HOOKS_INVALID_OPTION');
  expect(optionError.option).toBe(option);
  expect(Object.is(optionError.value, value)).toBe(true);
  expect(optionError.message).toContain(`Invalid ${option}: ${shown}.`);
  expect(optionError.message).toMatch(/Expected .+\.$/);
}

describe('concurrency inside a phase', () => {
  it('runs the hooks of one phase side by side: the phase lasts as long as the slowest hook, not the sum', async () => {
    const clock = new ManualClock();
    const events: HooksEvent[] = [];
    const hooks = createShutdownHooks({ clock, onEvent: (event) => events.push(event) });
    for (const ms of [100, 200, 300]) hooks.add(`sleep-${ms}`, () => sleep(clock, ms));

    const run = hooks.run();
    const progress = track(run);
    await clock.advance(299);
    expect(progress.settled).toBe(false);
    await clock.advance(1);
    expect(progress.settled).toBe(true);
    const report = await run;

    const phaseEnd = events.find((event) => event.type === 'phase-end');
    expect(phaseEnd?.at).toBe(300);
    expect(report.durationMs).toBe(300);
    expect(report.phases[0]?.durationMs).toBe(300);
    expect(report.hooks.map((hook) => [hook.name, hook.startedAt, hook.durationMs])).toEqual([
      ['sleep-100', 0, 100],
      ['sleep-200', 0, 200],
      ['sleep-300', 0, 300],
    ]);
  });

  it('starts every hook of a phase before any of them finishes (real timers)', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const hooks = createShutdownHooks({ clock: systemClock });
    for (const ms of [5, 10, 15]) {
      hooks.add(`real-${ms}`, async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, ms));
        inFlight--;
      });
    }
    const events: string[] = [];
    hooks.on((event) => events.push(event.type));

    const report = await hooks.run({ deadlineMs: 30_000 });

    expect(report.ok).toBe(true);
    expect(maxInFlight).toBe(3);
    expect(events.slice(1, 4)).toEqual(['hook-start', 'hook-start', 'hook-start']);
  });
});

describe('order across phases', () => {
  it('never starts a phase before the previous one has ended, and emits events in that order', async () => {
    const clock = new ManualClock();
    const events: string[] = [];
    const hooks = createShutdownHooks({ phases: ['drain', 'flush', 'close'], clock });
    hooks.on((event) => events.push(describeEvent(event)));
    // Registered out of phase order on purpose: the phase decides when a hook runs.
    hooks.add('close-db', () => sleep(clock, 10), { phase: 'close' });
    hooks.add('drain-http', () => sleep(clock, 100), { phase: 'drain' });
    hooks.add('drain-ws', () => sleep(clock, 50), { phase: 'drain' });
    hooks.add('flush-logs', () => sleep(clock, 30), { phase: 'flush' });

    const run = hooks.run();
    await clock.advance(1_000);
    const report = await run;

    expect(events).toEqual([
      'phase-start drain@0',
      'hook-start drain-http@0',
      'hook-start drain-ws@0',
      'hook-end drain-ws@50 ok',
      'hook-end drain-http@100 ok',
      'phase-end drain@100',
      'phase-start flush@100',
      'hook-start flush-logs@100',
      'hook-end flush-logs@130 ok',
      'phase-end flush@130',
      'phase-start close@130',
      'hook-start close-db@130',
      'hook-end close-db@140 ok',
      'phase-end close@140',
      'run-end @140',
    ]);
    expect(report.hooks.map((hook) => hook.name)).toEqual(['drain-http', 'drain-ws', 'flush-logs', 'close-db']);
  });

  it('puts hooks without a phase into the first phase', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ phases: ['first', 'second'], clock });
    hooks.add('later', () => {}, { phase: 'second' });
    hooks.add('unphased', () => {});

    const report = await hooks.run();

    expect(hookResult(report, 'unphased').phase).toBe('first');
    expect(report.hooks.map((hook) => hook.name)).toEqual(['unphased', 'later']);
  });
});

describe('per-hook timeout', () => {
  it('abandons only the slow hook: status timeout, HookTimeoutError, its signal aborted with that error', async () => {
    const clock = new ManualClock();
    const signals = new Map<string, AbortSignal>();
    const hooks = createShutdownHooks({ clock });
    hooks.add(
      'stuck',
      (signal) => {
        signals.set('stuck', signal);
        return never();
      },
      { timeoutMs: 100 },
    );
    hooks.add(
      'fast',
      (signal) => {
        signals.set('fast', signal);
        return sleep(clock, 50, signal);
      },
      { timeoutMs: 100 },
    );
    hooks.add('long', (signal) => {
      signals.set('long', signal);
      return sleep(clock, 300, signal);
    });

    const run = hooks.run();
    await clock.advance(300);
    const report = await run;

    const stuck = hookResult(report, 'stuck');
    expect(stuck.status).toBe('timeout');
    expect(stuck.durationMs).toBe(100);
    expect(stuck.error).toBeInstanceOf(HookTimeoutError);
    const timeout = stuck.error as HookTimeoutError;
    expect(timeout).toMatchObject({ name: 'HookTimeoutError', code: 'QUIESCE_HOOK_TIMEOUT', hook: 'stuck', timeoutMs: 100 });
    expect(timeout.message).toContain('"stuck"');
    expect(timeout.message).toContain('100 ms');
    expect(signals.get('stuck')?.aborted).toBe(true);
    expect(signals.get('stuck')?.reason).toBe(stuck.error);

    expect(hookResult(report, 'fast')).toMatchObject({ status: 'ok', durationMs: 50, error: undefined });
    expect(hookResult(report, 'long')).toMatchObject({ status: 'ok', durationMs: 300, error: undefined });
    expect(signals.get('fast')?.aborted).toBe(false);
    expect(signals.get('long')?.aborted).toBe(false);
    expect(report).toMatchObject({ ok: false, deadlineHit: false, durationMs: 300 });
    expect(report.totals).toEqual({ total: 3, ok: 2, error: 0, timeout: 1, aborted: 0 });
  });

  it('lets the next phase start as soon as the timed-out hook is abandoned', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ phases: ['one', 'two'], clock });
    hooks.add('stuck', never, { phase: 'one', timeoutMs: 100 });
    hooks.add('next', () => {}, { phase: 'two' });

    const run = hooks.run();
    await clock.advance(100);
    const report = await run;

    expect(hookResult(report, 'next')).toMatchObject({ status: 'ok', startedAt: 100 });
  });
});

describe('global deadline', () => {
  it('resolves at the deadline when a hook never settles; hooks of later phases are aborted without starting', async () => {
    const clock = new ManualClock();
    let stuckSignal: AbortSignal | undefined;
    let laterCalls = 0;
    const events: string[] = [];
    const hooks = createShutdownHooks({ phases: ['drain', 'close'], clock });
    hooks.on((event) => events.push(describeEvent(event)));
    hooks.add('stuck', (signal) => {
      stuckSignal = signal;
      return never();
    });
    hooks.add('quick', () => sleep(clock, 10));
    hooks.add(
      'later',
      () => {
        laterCalls++;
      },
      { phase: 'close' },
    );

    const run = hooks.run({ deadlineMs: 500 });
    const progress = track(run);
    await clock.advance(499);
    expect(progress.settled).toBe(false);
    await clock.advance(1);
    expect(progress.settled).toBe(true);
    const report = await run;

    expect(report).toMatchObject({ deadlineHit: true, ok: false, durationMs: 500 });
    const stuck = hookResult(report, 'stuck');
    expect(stuck).toMatchObject({ status: 'aborted', startedAt: 0, durationMs: 500 });
    expect(stuck.error).toBeInstanceOf(DeadlineExceededError);
    expect(stuck.error).toMatchObject({ code: 'QUIESCE_DEADLINE_EXCEEDED', timeoutMs: 500 });
    expect(stuckSignal?.aborted).toBe(true);
    expect(stuckSignal?.reason).toBe(stuck.error);
    expect(hookResult(report, 'quick').status).toBe('ok');
    expect(hookResult(report, 'later')).toEqual({
      name: 'later',
      phase: 'close',
      status: 'aborted',
      startedAt: undefined,
      durationMs: 0,
      error: stuck.error,
    });
    expect(laterCalls).toBe(0);
    expect(report.phases[1]).toEqual({ name: 'close', startedAt: undefined, durationMs: 0, hooks: 1 });
    expect(report.totals).toEqual({ total: 3, ok: 1, error: 0, timeout: 0, aborted: 2 });
    expect(events.filter((line) => line.includes('close') || line.includes('later'))).toEqual([]);
    expect(events.at(-1)).toBe('run-end @500');
  });

  it('aborts a hook at the deadline even when its own timeout is later', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ clock });
    hooks.add('stuck', never, { timeoutMs: 1_000 });

    const run = hooks.run({ deadlineMs: 200 });
    await clock.advance(200);
    const report = await run;

    expect(hookResult(report, 'stuck')).toMatchObject({ status: 'aborted', durationMs: 200 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('treats an outer signal like the deadline: the run resolves when it aborts, with its reason', async () => {
    const clock = new ManualClock();
    const outer = new AbortController();
    const reason = new Error('supervisor gave up');
    let stuckSignal: AbortSignal | undefined;
    let laterCalls = 0;
    const hooks = createShutdownHooks({ phases: ['drain', 'close'], clock });
    hooks.add('stuck', (signal) => {
      stuckSignal = signal;
      return never();
    });
    hooks.add(
      'later',
      () => {
        laterCalls++;
      },
      { phase: 'close' },
    );

    const run = hooks.run({ signal: outer.signal });
    const progress = track(run);
    await clock.advance(200);
    expect(progress.settled).toBe(false);
    outer.abort(reason);
    const report = await run;

    expect(report).toMatchObject({ deadlineHit: true, ok: false, durationMs: 200 });
    expect(hookResult(report, 'stuck')).toMatchObject({ status: 'aborted', startedAt: 0, durationMs: 200, error: reason });
    expect(stuckSignal?.reason).toBe(reason);
    expect(hookResult(report, 'later')).toMatchObject({ status: 'aborted', startedAt: undefined, error: reason });
    expect(laterCalls).toBe(0);
  });

  it('runs no hook at all when the outer signal is already aborted', async () => {
    const clock = new ManualClock();
    const reason = new Error('already stopping');
    let calls = 0;
    const events: string[] = [];
    const hooks = createShutdownHooks({ phases: ['drain', 'close'], clock });
    hooks.on((event) => events.push(event.type));
    hooks.add('a', () => {
      calls++;
    });
    hooks.add(
      'b',
      () => {
        calls++;
      },
      { phase: 'close' },
    );

    const report = await hooks.run({ signal: AbortSignal.abort(reason), deadlineMs: 1_000 });

    expect(calls).toBe(0);
    expect(events).toEqual(['run-end']);
    expect(report.deadlineHit).toBe(true);
    expect(report.hooks.map((hook) => [hook.status, hook.startedAt, hook.error])).toEqual([
      ['aborted', undefined, reason],
      ['aborted', undefined, reason],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('failing hooks', () => {
  it('records a hook that throws synchronously and one that rejects as errors; the others still run', async () => {
    const clock = new ManualClock();
    const thrown = new Error('sync boom');
    const rejected = new Error('async boom');
    let laterCalls = 0;
    const hooks = createShutdownHooks({ phases: ['one', 'two'], clock });
    hooks.add('throws', () => {
      throw thrown;
    });
    hooks.add('rejects', async () => {
      await sleep(clock, 20);
      throw rejected;
    });
    hooks.add('fine', () => sleep(clock, 40));
    hooks.add(
      'later',
      () => {
        laterCalls++;
      },
      { phase: 'two' },
    );

    const run = hooks.run();
    await clock.advance(40);
    const report = await run;

    expect(hookResult(report, 'throws')).toMatchObject({ status: 'error', error: thrown, durationMs: 0 });
    expect(hookResult(report, 'rejects')).toMatchObject({ status: 'error', error: rejected, durationMs: 20 });
    expect(hookResult(report, 'fine')).toMatchObject({ status: 'ok', durationMs: 40 });
    expect(hookResult(report, 'later')).toMatchObject({ status: 'ok', startedAt: 40 });
    expect(laterCalls).toBe(1);
    expect(report.totals).toEqual({ total: 4, ok: 2, error: 2, timeout: 0, aborted: 0 });
    expect(report.ok).toBe(false);
  });

  it('records a rejection with a non-Error value as it is', async () => {
    const hooks = createShutdownHooks({ clock: new ManualClock() });
    hooks.add('rejects-string', () => Promise.reject('nope'));

    const report = await hooks.run();

    expect(hookResult(report, 'rejects-string')).toMatchObject({ status: 'error', error: 'nope' });
  });

  it('calls a hook as a plain function, with its signal as the only argument', async () => {
    let seen: { self: unknown; args: unknown[] } | undefined;
    const hooks = createShutdownHooks({ clock: new ManualClock() });
    hooks.add('inspect', function (this: unknown, ...args: unknown[]) {
      seen = { self: this, args };
    });

    await hooks.run();

    expect(seen?.self).toBeUndefined();
    expect(seen?.args).toHaveLength(1);
    expect(seen?.args[0]).toBeInstanceOf(AbortSignal);
  });
});

describe('idempotent run', () => {
  it('returns the same promise and report on every call and runs each hook once', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const hooks = createShutdownHooks({ clock });
    hooks.add('count', () => {
      calls++;
      return sleep(clock, 10);
    });

    const first = hooks.run({ deadlineMs: 1_000 });
    const second = hooks.run({ deadlineMs: 1 });
    expect(second).toBe(first);
    await clock.advance(10);
    const report = await first;
    const third = hooks.run();

    expect(third).toBe(first);
    expect(await third).toBe(report);
    expect(calls).toBe(1);
    expect(report.deadlineHit).toBe(false);
  });

  it('gives a hook that calls run() while the run is starting the same run, not a second one', async () => {
    let calls = 0;
    let inner: Promise<HooksReport> | undefined;
    const hooks: ShutdownHooks = createShutdownHooks({ clock: new ManualClock() });
    hooks.add('reenter', () => {
      calls++;
      inner = hooks.run();
    });

    const outer = hooks.run();
    const report = await outer;

    expect(inner).toBe(outer);
    expect(calls).toBe(1);
    expect(report.totals.total).toBe(1);
  });

  it('moves its state from idle to running to done', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ clock });
    hooks.add('wait', () => sleep(clock, 10));
    expect(hooks.state).toBe('idle');

    const run = hooks.run();
    expect(hooks.state).toBe('running');
    await clock.advance(10);
    await run;

    expect(hooks.state).toBe('done');
  });

  it('stays idle after a call with bad options, so the call can be corrected', async () => {
    const hooks = createShutdownHooks({ clock: new ManualClock() });
    hooks.add('ok', () => {});

    expect(() => hooks.run({ deadlineMs: -1 })).toThrow(HooksOptionError);
    expect(hooks.state).toBe('idle');
    const report = await hooks.run({ deadlineMs: 100 });

    expect(report.ok).toBe(true);
  });
});

describe('report', () => {
  it('describes every phase and hook with clock readings, durations and totals', async () => {
    const clock = new ManualClock(1_000);
    const failure = new Error('queue unreachable');
    const hooks = createShutdownHooks({ phases: ['drain', 'flush', 'close', 'empty'], clock });
    hooks.add('drain-http', () => sleep(clock, 120), { phase: 'drain' });
    hooks.add('stuck-ws', never, { phase: 'drain', timeoutMs: 80 });
    hooks.add(
      'flush-queue',
      async () => {
        await sleep(clock, 30);
        throw failure;
      },
      { phase: 'flush' },
    );
    hooks.add('close-db', () => sleep(clock, 5), { phase: 'close' });

    const run = hooks.run({ deadlineMs: 10_000 });
    await clock.advance(1_000);
    const report = await run;

    expect(report).toEqual({
      startedAt: 1_000,
      durationMs: 155,
      deadlineHit: false,
      ok: false,
      phases: [
        { name: 'drain', startedAt: 1_000, durationMs: 120, hooks: 2 },
        { name: 'flush', startedAt: 1_120, durationMs: 30, hooks: 1 },
        { name: 'close', startedAt: 1_150, durationMs: 5, hooks: 1 },
        { name: 'empty', startedAt: 1_155, durationMs: 0, hooks: 0 },
      ],
      hooks: [
        { name: 'drain-http', phase: 'drain', status: 'ok', startedAt: 1_000, durationMs: 120, error: undefined },
        {
          name: 'stuck-ws',
          phase: 'drain',
          status: 'timeout',
          startedAt: 1_000,
          durationMs: 80,
          error: new HookTimeoutError('stuck-ws', 80),
        },
        { name: 'flush-queue', phase: 'flush', status: 'error', startedAt: 1_120, durationMs: 30, error: failure },
        { name: 'close-db', phase: 'close', status: 'ok', startedAt: 1_150, durationMs: 5, error: undefined },
      ],
      totals: { total: 4, ok: 2, error: 1, timeout: 1, aborted: 0 },
    });
  });

  it('is ok with no hooks at all', async () => {
    const clock = new ManualClock();
    const report = await createShutdownHooks({ clock }).run();

    expect(report).toEqual({
      startedAt: 0,
      durationMs: 0,
      deadlineHit: false,
      ok: true,
      phases: [{ name: 'default', startedAt: 0, durationMs: 0, hooks: 0 }],
      hooks: [],
      totals: { total: 0, ok: 0, error: 0, timeout: 0, aborted: 0 },
    });
  });

  it('sets no timer and no listener on the outer signal for a run without hooks (shutdown pays nothing for it)', async () => {
    const clock = new ManualClock();
    const outer = new AbortController();
    const running = createShutdownHooks({ phases: ['a', 'b'], clock }).run({ deadlineMs: 1_000, signal: outer.signal });

    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(outer.signal, 'abort')).toHaveLength(0);
    const report = await running;
    expect(report.deadlineHit).toBe(false);
    expect(report.phases).toEqual([
      { name: 'a', startedAt: 0, durationMs: 0, hooks: 0 },
      { name: 'b', startedAt: 0, durationMs: 0, hooks: 0 },
    ]);
  });

  it('reports the deadline as hit for a run without hooks whose outer signal has aborted, as for one with hooks', async () => {
    const reason = new Error('already stopping');
    const report = await createShutdownHooks({ phases: ['a', 'b'], clock: new ManualClock() }).run({ signal: AbortSignal.abort(reason) });

    expect(report).toMatchObject({ deadlineHit: true, ok: true, totals: { total: 0 } });
    expect(report.phases).toEqual([
      { name: 'a', startedAt: undefined, durationMs: 0, hooks: 0 },
      { name: 'b', startedAt: undefined, durationMs: 0, hooks: 0 },
    ]);
  });

  it('is ok when every hook ended ok', async () => {
    const hooks = createShutdownHooks({ clock: new ManualClock() });
    hooks.add('a', () => {});
    hooks.add('b', async () => 'a value is ignored');

    const report = await hooks.run();

    expect(report.ok).toBe(true);
    expect(report.totals).toEqual({ total: 2, ok: 2, error: 0, timeout: 0, aborted: 0 });
  });
});

describe('events', () => {
  it('emits typed events with the results they describe', async () => {
    const clock = new ManualClock();
    const events: HooksEvent[] = [];
    const hooks = createShutdownHooks({ clock, onEvent: (event) => events.push(event) });
    hooks.add('only', () => sleep(clock, 7));

    const run = hooks.run();
    await clock.advance(7);
    const report = await run;

    expect(events).toEqual([
      { type: 'phase-start', phase: 'default', at: 0 },
      { type: 'hook-start', hook: 'only', phase: 'default', at: 0 },
      { type: 'hook-end', hook: 'only', phase: 'default', at: 7, result: report.hooks[0] },
      { type: 'phase-end', phase: 'default', at: 7, result: report.phases[0] },
      { type: 'run-end', at: 7, report },
    ]);
  });

  it('ignores a listener that throws: the run and the other listeners go on', async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const hooks = createShutdownHooks({
      clock,
      onEvent: () => {
        throw new Error('broken logger');
      },
    });
    hooks.on(() => {
      throw new Error('another broken logger');
    });
    hooks.on((event) => seen.push(event.type));
    hooks.add('a', () => sleep(clock, 5));

    const run = hooks.run();
    await clock.advance(5);
    const report = await run;

    expect(report.ok).toBe(true);
    expect(seen).toEqual(['phase-start', 'hook-start', 'hook-end', 'phase-end', 'run-end']);
  });

  it('stops delivering events to a listener once it unsubscribes', async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const hooks = createShutdownHooks({ clock });
    const unsubscribe = hooks.on((event) => {
      seen.push(event.type);
      if (event.type === 'hook-start') unsubscribe();
    });
    const unsubscribeSilent = hooks.on((event) => seen.push(`silent:${event.type}`));
    unsubscribeSilent();
    unsubscribeSilent();
    hooks.add('a', () => sleep(clock, 5));

    const run = hooks.run();
    await clock.advance(5);
    await run;

    expect(seen).toEqual(['phase-start', 'hook-start']);
  });
});

describe('validation', () => {
  const clock = new ManualClock();
  const fresh = (): ShutdownHooks => createShutdownHooks({ phases: ['drain', 'close'], clock });

  for (const [value, shown] of [
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    ['100', '"100"'],
  ] as const) {
    it(`refuses a hook timeoutMs of ${shown}`, () => {
      expectOptionError(() => fresh().add('h', () => {}, { timeoutMs: value as number }), 'timeoutMs', value, shown);
    });
  }

  it('accepts a hook timeoutMs of 0', () => {
    expect(() => fresh().add('h', () => {}, { timeoutMs: 0 })).not.toThrow();
  });

  it('refuses a duplicate hook name', () => {
    const hooks = fresh();
    hooks.add('db', () => {});
    expectOptionError(() => hooks.add('db', () => {}), 'name', 'db', '"db"');
  });

  it('refuses an empty or non-string hook name', () => {
    expectOptionError(() => fresh().add('', () => {}), 'name', '', '""');
    expectOptionError(() => fresh().add(42 as unknown as string, () => {}), 'name', 42, '42');
  });

  it('refuses an unknown phase and lists the known ones', () => {
    const error = catchError(() => fresh().add('h', () => {}, { phase: 'teardown' }));
    expectOptionError(() => fresh().add('h', () => {}, { phase: 'teardown' }), 'phase', 'teardown', '"teardown"');
    expect((error as Error).message).toContain('["drain","close"]');
  });

  it('refuses a hook that is not a function', () => {
    expectOptionError(() => fresh().add('h', 'close()' as unknown as () => void), 'run', 'close()', '"close()"');
  });

  it('refuses hook options that are not an object', () => {
    expectOptionError(() => fresh().add('h', () => {}, null as unknown as object), 'options', null, 'null');
  });

  for (const [value, shown] of [
    [[], '[]'],
    [['drain', 'drain'], '["drain","drain"]'],
    [['drain', ''], '["drain",""]'],
    ['drain', '"drain"'],
  ] as const) {
    it(`refuses phases ${shown}`, () => {
      expectOptionError(() => createShutdownHooks({ phases: value as unknown as string[] }), 'phases', value, shown);
    });
  }

  it('says which phase name appears twice', () => {
    const error = catchError(() => createShutdownHooks({ phases: ['a', 'b', 'a'] }));
    expect((error as Error).message).toContain('"a" appears twice');
  });

  for (const [value, shown] of [
    [{}, '{}'],
    [null, 'null'],
    [{ now: () => 0, setTimeout: 1 }, '{"setTimeout":1}'],
  ] as const) {
    it(`refuses a clock without now(), setTimeout() and clearTimeout(): ${shown}`, () => {
      expectOptionError(() => createShutdownHooks({ clock: value as unknown as ManualClock }), 'clock', value, shown);
    });
  }

  it('refuses an onEvent listener or on() argument that is not a function', () => {
    expectOptionError(() => createShutdownHooks({ onEvent: 'log' as unknown as () => void }), 'onEvent', 'log', '"log"');
    expectOptionError(() => fresh().on(1 as unknown as () => void), 'listener', 1, '1');
  });

  it('refuses creation options that are not an object', () => {
    expectOptionError(() => createShutdownHooks(null as unknown as object), 'options', null, 'null');
  });

  for (const [value, shown] of [
    [-5, '-5'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    ['10s', '"10s"'],
  ] as const) {
    it(`refuses a run deadlineMs of ${shown}`, () => {
      expectOptionError(() => fresh().run({ deadlineMs: value as number }), 'deadlineMs', value, shown);
    });
  }

  it('refuses a run signal that is not an AbortSignal, and run options that are not an object', () => {
    const notASignal = { aborted: false };
    expectOptionError(() => fresh().run({ signal: notASignal as AbortSignal }), 'signal', notASignal, '{"aborted":false}');
    expectOptionError(() => fresh().run(null as unknown as object), 'options', null, 'null');
  });
});

describe('changes after the run started', () => {
  it('refuses add() and remove() with HooksStateError while running and when done', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ clock });
    hooks.add('wait', () => sleep(clock, 10));
    expect(hooks.remove('missing')).toBe(false);
    hooks.add('gone', () => {});
    expect(hooks.remove('gone')).toBe(true);

    const run = hooks.run();
    for (const change of [() => hooks.add('late', () => {}), () => hooks.remove('wait')]) {
      const error = catchError(change);
      expect(error).toBeInstanceOf(HooksStateError);
      expect(error).toMatchObject({ name: 'HooksStateError', code: 'QUIESCE_HOOKS_ALREADY_RUNNING' });
    }
    expect((catchError(() => hooks.add('late', () => {})) as Error).message).toContain('"late"');
    await clock.advance(10);
    const report = await run;

    expect(() => hooks.add('after', () => {})).toThrow(HooksStateError);
    expect(() => hooks.remove('wait')).toThrow(HooksStateError);
    expect(report.hooks.map((hook) => hook.name)).toEqual(['wait']);
  });

  it('turns add() from inside a running hook into that hook’s error', async () => {
    const hooks: ShutdownHooks = createShutdownHooks({ clock: new ManualClock() });
    hooks.add('adds', () => hooks.add('late', () => {}));

    const report = await hooks.run();

    expect(report.hooks[0]?.status).toBe('error');
    expect(report.hooks[0]?.error).toBeInstanceOf(HooksStateError);
  });
});

describe('no stray timers', () => {
  it('leaves no timer pending after a run with per-hook timeouts and a deadline', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ phases: ['drain', 'close'], clock });
    hooks.add('fast', (signal) => sleep(clock, 10, signal), { phase: 'drain', timeoutMs: 1_000 });
    hooks.add('times-out', (signal) => sleep(clock, 5_000, signal), { phase: 'drain', timeoutMs: 50 });
    hooks.add('close', (signal) => sleep(clock, 20, signal), { phase: 'close', timeoutMs: 1_000 });

    const run = hooks.run({ deadlineMs: 60_000 });
    expect(clock.pendingTimers).toBeGreaterThan(0);
    await clock.advance(100);
    const report = await run;

    expect(report.totals).toEqual({ total: 3, ok: 2, error: 0, timeout: 1, aborted: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('leaves no timer pending after the deadline cut the run short', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ phases: ['drain', 'close'], clock });
    hooks.add('stuck', never, { phase: 'drain', timeoutMs: 10_000 });
    hooks.add('polite', (signal) => sleep(clock, 10_000, signal), { phase: 'drain', timeoutMs: 10_000 });
    hooks.add('never-reached', () => {}, { phase: 'close', timeoutMs: 10 });

    const run = hooks.run({ deadlineMs: 300 });
    await clock.advance(300);
    await run;

    expect(clock.pendingTimers).toBe(0);
  });
});

describe('quiesce:hook:end (the event catalog)', () => {
  /** Subscribes to `quiesce:hook:end` for the length of `body`; returns what was published. */
  async function published(body: () => Promise<unknown>): Promise<unknown[]> {
    const got: unknown[] = [];
    const listener = (message: unknown): void => {
      got.push(message);
    };
    expect(quiesceChannels.hookEnd.subscribe(listener)).toBe(true);
    try {
      await body();
    } finally {
      quiesceChannels.hookEnd.unsubscribe(listener);
    }
    return got;
  }

  it('publishes each hook result as the hook ends: ok, error, timeout and aborted alike', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ clock, phases: ['first', 'second'] });
    const failure = new Error('db gone');
    hooks.add('quick', () => sleep(clock, 5), { phase: 'first' });
    hooks.add('broken', () => Promise.reject(failure), { phase: 'first' });
    hooks.add('slow', never, { phase: 'first', timeoutMs: 20 });
    hooks.add('late', never, { phase: 'second' });
    let report: HooksReport | undefined;
    const got = await published(async () => {
      const run = hooks.run({ deadlineMs: 50 });
      await clock.advance(50);
      report = await run;
    });
    expect(got).toEqual([report!.hooks[1], report!.hooks[0], report!.hooks[2], report!.hooks[3]]);
    expect(got.map((m) => (m as HookResult).status)).toEqual(['error', 'ok', 'timeout', 'aborted']);
    // The very objects of the report: a subscriber reads what the report says, nothing is copied.
    expect(got[0]).toBe(report!.hooks.find((h) => h.name === 'broken'));
  });

  it('publishes the hooks of a phase the deadline never reached, as aborted', async () => {
    const clock = new ManualClock();
    const hooks = createShutdownHooks({ clock, phases: ['first', 'second'] });
    hooks.add('hang', never, { phase: 'first' });
    hooks.add('unreached', () => {}, { phase: 'second' });
    const got = await published(async () => {
      const run = hooks.run({ deadlineMs: 10 });
      await clock.advance(10);
      await run;
    });
    expect(got).toMatchObject([
      { name: 'hang', phase: 'first', status: 'aborted' },
      { name: 'unreached', phase: 'second', status: 'aborted', startedAt: undefined },
    ]);
  });
});
