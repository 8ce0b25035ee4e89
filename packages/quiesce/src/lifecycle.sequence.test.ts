import type { DrainReport, ServerAdapter, TrackerStats } from '@quiesce/drain';
import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { LifecycleOptionError } from './errors.ts';
import { type DeregistrableRegistry, type LifecycleOptions, createLifecycle } from './lifecycle.ts';
import { formatShutdownReport } from './shutdown-report.ts';
import { DrainStartedError } from './shutdown-signal.ts';

// The shutdown sequence on its own: a fake adapter that records what the lifecycle asks of it (and
// at what time on a ManualClock), and drains only when the test says so or the deadline aborts.

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function drainReport(outcome: DrainReport['outcome'], cut = 0): DrainReport {
  return {
    outcome,
    durationMs: 0,
    inFlightAtStart: cut,
    requestsCompleted: 0,
    requestsCut: cut,
    idleClosed: 0,
    preconnectsClosed: 0,
    forceClosed: cut,
    upgradedAtStart: 0,
    upgradedClosed: 0,
    upgradedForceClosed: 0,
    streamsAtStart: 0,
    streamsCut: 0,
  };
}

/** A ServerAdapter that does nothing but record, on `clock`'s time. */
class FakeAdapter implements ServerAdapter {
  readonly name = 'fake';
  readonly calls: { call: string; at: number }[] = [];
  readonly signals: { stopAccepting?: AbortSignal; drain?: AbortSignal } = {};
  /** When the deadline aborted the signal each call received. */
  readonly abortedAt: { stopAccepting?: number; drain?: number } = {};
  readonly listening = deferred();
  readonly drained = deferred<DrainReport>();
  forced = 0;
  sockets: unknown[] = [];
  /** What beginShutdown was told. */
  begun: unknown;
  readonly #clock: ManualClock;

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  #record(call: string): void {
    this.calls.push({ call, at: this.#clock.now() });
  }

  #watch(call: 'stopAccepting' | 'drain', signal: AbortSignal): void {
    this.signals[call] = signal;
    signal.addEventListener('abort', () => (this.abortedAt[call] = this.#clock.now()), { once: true });
  }

  ready(): Promise<void> {
    this.#record('ready');
    return this.listening.promise;
  }
  beginShutdown(options?: unknown): void {
    this.#record('beginShutdown');
    this.begun = options;
  }
  stopAccepting({ signal }: { signal: AbortSignal }): Promise<void> {
    this.#record('stopAccepting');
    this.#watch('stopAccepting', signal);
    return Promise.resolve();
  }
  drain({ signal }: { signal: AbortSignal }): Promise<DrainReport> {
    this.#record('drain');
    this.#watch('drain', signal);
    // At the deadline a real adapter cuts what is left and resolves forced.
    signal.addEventListener('abort', () => this.drained.resolve(drainReport('forced', 1)), { once: true });
    return this.drained.promise;
  }
  forceClose(): number {
    this.#record('forceClose');
    this.forced++;
    return 2;
  }
  upgraded(): readonly unknown[] {
    return this.sockets;
  }
  stats(): TrackerStats {
    return { state: 'serving', connections: 0, idle: 0, upgraded: 0, inFlight: 0 };
  }
  dispose(): void {}

  /** The names of the calls so far, in order, `ready` left out. */
  get sequence(): string[] {
    return this.calls.filter((c) => c.call !== 'ready').map((c) => c.call);
  }

  at(call: string): number | undefined {
    return this.calls.find((c) => c.call === call)?.at;
  }
}

function setup(options: Partial<LifecycleOptions> = {}) {
  const clock = new ManualClock();
  const adapter = new FakeAdapter(clock);
  const lines: string[] = [];
  const lifecycle = createLifecycle({ adapter, clock, log: (line) => lines.push(line), ...options });
  return { clock, adapter, lifecycle, lines };
}

describe('the shutdown signal (fake adapter, manual clock)', () => {
  it('stays quiet through the lame duck and aborts when the drain starts: after the listener closed and the drain took stock', async () => {
    const { clock, adapter, lifecycle } = setup({ lameDuckMs: 500, deadlineMs: 5_000 });
    let abortedAt: { at: number; calls: string[] } | undefined;
    lifecycle.signal.addEventListener('abort', () => (abortedAt = { at: clock.now(), calls: [...adapter.sequence] }));
    expect(lifecycle.shutdownKind).toBeUndefined();
    void lifecycle.shutdown('SIGTERM');
    await clock.advance(499);
    expect(lifecycle.signal.aborted).toBe(false);
    expect(lifecycle.shutdownKind).toBe('shutdown');
    await clock.advance(1);
    expect(abortedAt).toEqual({ at: 500, calls: ['beginShutdown', 'stopAccepting', 'drain'] });
    expect(adapter.sequence).toEqual(['beginShutdown', 'stopAccepting', 'drain']);
    expect(lifecycle.signal.reason).toBeInstanceOf(DrainStartedError);
    expect(lifecycle.signal.reason).toMatchObject({ name: 'DrainStartedError', code: 'QUIESCE_DRAIN_STARTED', kind: 'shutdown' });
    expect(adapter.begun).toEqual({ reason: 'shutdown' });
    adapter.drained.resolve(drainReport('drained'));
  });

  it('is one signal on every read, and one first read once the drain started is aborted already, with its reason', async () => {
    const serving = setup();
    expect(serving.lifecycle.signal).toBe(serving.lifecycle.signal);
    expect(serving.lifecycle.signal.aborted).toBe(false);

    const { clock, adapter, lifecycle } = setup({ lameDuckMs: 500, deadlineMs: 5_000 });
    void lifecycle.shutdown('SIGTERM');
    await clock.advance(500);
    const signal = lifecycle.signal;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(DrainStartedError);
    expect(signal.reason).toMatchObject({ code: 'QUIESCE_DRAIN_STARTED', kind: 'shutdown' });
    expect(lifecycle.signal).toBe(signal);
    adapter.drained.resolve(drainReport('drained'));
  });

  it("shutdown('restart') is a restart: the adapter is told (WebSockets get 1012) and the signal's kind says so", async () => {
    const { adapter, lifecycle } = setup();
    const report = lifecycle.shutdown('restart');
    await new Promise((resolve) => setTimeout(resolve, 0));
    adapter.drained.resolve(drainReport('drained'));
    expect((await report).reason).toBe('restart');
    expect(adapter.begun).toEqual({ reason: 'restart' });
    expect(lifecycle.shutdownKind).toBe('restart');
    expect(lifecycle.signal.reason).toMatchObject({ kind: 'restart' });
    expect((lifecycle.signal.reason as Error).message).toMatch(/restarts/);
  });
});

function registry(deregistered: Promise<{ outcome: 'ok' | 'error' | 'timeout'; error?: unknown }>): DeregistrableRegistry & { closed: number } {
  return {
    name: 'etcd',
    closed: 0,
    deregister: () => deregistered,
    close() {
      this.closed++;
      return Promise.resolve({ outcome: 'ok' as const });
    },
  };
}

describe('the shutdown sequence (fake adapter, manual clock)', () => {
  it('runs lame duck, stop accepting, drain and cleanup in order, each told to the adapter once', async () => {
    const { clock, adapter, lifecycle } = setup({ lameDuckMs: 500, deadlineMs: 5_000 });
    const states: string[] = [];
    lifecycle.onShutdown('queue', () => {
      states.push(`hook ${lifecycle.state} ${clock.now()}`);
    });
    lifecycle.onCleanup('db', () => {
      states.push(`cleanup ${lifecycle.state} ${clock.now()}`);
    });
    expect(lifecycle.isReady()).toBe(true);
    const done = lifecycle.shutdown('test');
    expect(lifecycle.state).toBe('lame-duck');
    expect(lifecycle.isReady()).toBe(false);
    expect(lifecycle.isLive()).toBe(true);
    expect(adapter.sequence).toEqual(['beginShutdown']);
    await clock.advance(499);
    expect(adapter.sequence).toEqual(['beginShutdown']); // the listener still accepts
    await clock.advance(1);
    expect(adapter.sequence).toEqual(['beginShutdown', 'stopAccepting', 'drain']);
    expect(lifecycle.state).toBe('draining');
    await clock.advance(100);
    adapter.drained.resolve(drainReport('drained'));
    const report = await done;
    expect(adapter.at('stopAccepting')).toBe(500);
    expect(states).toEqual(['hook draining 500', 'cleanup cleanup 600']);
    expect(report.phases.map((p) => [p.name, p.startMs, p.durationMs])).toEqual([
      ['deregister', 0, 0],
      ['lame-duck', 0, 500],
      ['stop-accepting', 500, 0],
      ['drain', 500, 100],
      ['cleanup', 600, 0],
    ]);
    expect(report).toMatchObject({ reason: 'test', outcome: 'clean', exitCode: 0, durationMs: 600 });
    expect(lifecycle.state).toBe('stopped');
    expect(lifecycle.isLive()).toBe(false);
    expect(lifecycle.report).toBe(report);
    expect(clock.pendingTimers).toBe(0);
  });

  it('happens once: a second shutdown() gets the same run, and the adapter hears of it once', async () => {
    const { adapter, lifecycle } = setup();
    const first = lifecycle.shutdown('a');
    expect(lifecycle.shutdown('b')).toBe(first);
    adapter.drained.resolve(drainReport('drained'));
    expect((await first).reason).toBe('a');
    expect(adapter.sequence).toEqual(['beginShutdown', 'stopAccepting', 'drain']);
  });

  it('gives stopAccepting and drain the same deadline signal, aborted at the deadline', async () => {
    const { clock, adapter, lifecycle } = setup({ deadlineMs: 2_000 });
    const done = lifecycle.shutdown();
    await clock.advance(0);
    expect(adapter.signals.stopAccepting).toBeInstanceOf(AbortSignal);
    expect(adapter.signals.drain).toBe(adapter.signals.stopAccepting);
    expect(adapter.signals.drain!.aborted).toBe(false);
    await clock.advance(2_000);
    const report = await done;
    expect(adapter.abortedAt).toEqual({ stopAccepting: 2_000, drain: 2_000 });
    expect(report).toMatchObject({ outcome: 'forced', exitCode: 1, drain: { outcome: 'forced', requestsCut: 1 } });
  });

  it('keeps the cleanup reserve: with cleanup hooks the drain is cut that much before the deadline, and cleanup runs in it', async () => {
    const { clock, adapter, lifecycle } = setup({ deadlineMs: 1_000, cleanupReserveMs: 200 });
    let cleanedAt: number | undefined;
    lifecycle.onCleanup('flush', () => {
      cleanedAt = clock.now();
    });
    const done = lifecycle.shutdown();
    await clock.advance(1_000);
    const report = await done;
    expect(adapter.abortedAt.drain).toBe(800);
    expect(cleanedAt).toBe(800);
    expect(report.cleanup.hooks[0]).toMatchObject({ name: 'flush', status: 'ok' });
    expect(report.outcome).toBe('forced');
  });

  it('without cleanup hooks the drain has the whole deadline', async () => {
    const { clock, adapter, lifecycle } = setup({ deadlineMs: 1_000, cleanupReserveMs: 200 });
    const done = lifecycle.shutdown();
    await clock.advance(1_000);
    await done;
    expect(adapter.abortedAt.drain).toBe(1_000);
  });

  it('without cleanup hooks one timer bounds the whole shutdown while it drains, and none is left once it is done', async () => {
    const { clock, adapter, lifecycle } = setup({ deadlineMs: 1_000 });
    const done = lifecycle.shutdown();
    await clock.advance(0);
    expect(adapter.sequence).toEqual(['beginShutdown', 'stopAccepting', 'drain']);
    expect(clock.pendingTimers).toBe(1);
    adapter.drained.resolve(drainReport('drained'));
    expect(await done).toMatchObject({ outcome: 'clean', exitCode: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('deregisters inside the lame duck: at its start, while the listener still accepts, bounded by its timeout', async () => {
    const { clock, adapter, lifecycle } = setup({ lameDuckMs: 1_000, deadlineMs: 10_000 });
    const seen: string[] = [];
    lifecycle.onDeregister('consul', async (signal) => {
      seen.push(`start ${clock.now()} ready=${lifecycle.isReady()} ${lifecycle.state}`);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 300));
      seen.push(`end ${clock.now()} aborted=${signal.aborted}`);
    });
    const done = lifecycle.shutdown();
    await clock.advance(0);
    expect(seen).toEqual(['start 0 ready=false lame-duck']);
    await clock.advance(300);
    expect(seen).toEqual(['start 0 ready=false lame-duck', 'end 300 aborted=false']);
    expect(adapter.sequence).toEqual(['beginShutdown']); // the lame duck goes on
    await clock.advance(700);
    expect(adapter.at('stopAccepting')).toBe(1_000);
    adapter.drained.resolve(drainReport('drained'));
    const report = await done;
    expect(report.deregistration.hooks[0]).toMatchObject({ name: 'consul', status: 'ok', durationMs: 300 });
  });

  it('a hung deregistration times out after 2 s and shutdown goes on; the report names it, the exit code stays 0', async () => {
    const { clock, adapter, lifecycle, lines } = setup({ deadlineMs: 10_000 });
    lifecycle.useRegistry(registry(new Promise(() => {})));
    const done = lifecycle.shutdown('SIGTERM');
    await clock.advance(1_999);
    expect(adapter.sequence).toEqual(['beginShutdown']);
    await clock.advance(1);
    expect(adapter.sequence).toEqual(['beginShutdown', 'stopAccepting', 'drain']);
    adapter.drained.resolve(drainReport('drained'));
    const report = await done;
    expect(report.deregistration.hooks[0]).toMatchObject({ name: 'etcd', status: 'timeout' });
    expect(report).toMatchObject({ outcome: 'clean', exitCode: 0 });
    expect(lines[0]).toMatch(/^quiesce: shutdown clean .*; deregistered etcd timeout 2000ms; .*; hooks 1 ok, 0 failed; exit 0$/);
  });

  it('a registry whose deregistration fails is in the report with its error; the registry is still closed in cleanup', async () => {
    const { adapter, lifecycle } = setup();
    const failing = registry(Promise.resolve({ outcome: 'error', error: new Error('etcd: connection refused') }));
    lifecycle.useRegistry(failing);
    adapter.drained.resolve(drainReport('drained'));
    const report = await lifecycle.shutdown();
    expect(report.deregistration.hooks[0]).toMatchObject({ name: 'etcd', status: 'error' });
    expect((report.deregistration.hooks[0]!.error as Error).message).toBe('etcd: connection refused');
    expect(report.cleanup.hooks[0]).toMatchObject({ name: 'etcd.close', status: 'ok' });
    expect(failing.closed).toBe(1);
    expect(report.exitCode).toBe(0);
  });

  it('hands the upgraded sockets the adapter reports to onUpgraded when the drain starts', async () => {
    const handed: unknown[][] = [];
    const { adapter, lifecycle } = setup({ onUpgraded: (sockets) => void handed.push(sockets) });
    adapter.sockets = ['ws-1', 'ws-2'];
    adapter.drained.resolve(drainReport('drained'));
    await lifecycle.shutdown();
    expect(handed).toEqual([['ws-1', 'ws-2']]);
  });

  it('forceClose() is the adapter’s', () => {
    const { adapter, lifecycle } = setup();
    expect(lifecycle.forceClose()).toBe(2);
    expect(adapter.forced).toBe(1);
  });
});

describe('the exit code: decided once, by the report', () => {
  async function outcome(options: Partial<LifecycleOptions>, arrange: (lifecycle: ReturnType<typeof setup>) => void, drain: DrainReport['outcome'] = 'drained') {
    const context = setup({ deadlineMs: 1_000, ...options });
    arrange(context);
    const done = context.lifecycle.shutdown();
    if (drain === 'drained') context.adapter.drained.resolve(drainReport('drained'));
    await context.clock.advance(1_000);
    const report = await done;
    return { report, line: formatShutdownReport(report) };
  }

  it('clean: drained in time and every hook ok → 0', async () => {
    const { report, line } = await outcome({}, ({ lifecycle }) => lifecycle.onShutdown('a', () => {}));
    expect(report).toMatchObject({ outcome: 'clean', exitCode: 0 });
    expect(line).toMatch(/hooks 1 ok, 0 failed; exit 0$/);
  });

  it('failed: a shutdown hook threw → 1', async () => {
    const { report, line } = await outcome({}, ({ lifecycle }) =>
      lifecycle.onShutdown('queue', () => {
        throw new Error('queue broke');
      }),
    );
    expect(report).toMatchObject({ outcome: 'failed', exitCode: 1 });
    expect(line).toMatch(/^quiesce: shutdown failed .*hooks 0 ok, 1 failed \(queue error "queue broke"\); exit 1$/);
  });

  it('failed: a cleanup hook timed out → 1', async () => {
    const { report } = await outcome({}, ({ lifecycle }) => lifecycle.onCleanup('db', () => new Promise(() => {}), { timeoutMs: 100 }));
    expect(report.cleanup.hooks[0]!.status).toBe('timeout');
    expect(report).toMatchObject({ outcome: 'failed', exitCode: 1 });
  });

  it('forced: the deadline cut the drain → 1, whatever else went well', async () => {
    const { report } = await outcome({}, () => {}, 'forced');
    expect(report).toMatchObject({ outcome: 'forced', exitCode: 1 });
  });

  it('a failed deregistration alone leaves it clean → 0, and the line says what failed', async () => {
    const { report, line } = await outcome({}, ({ lifecycle }) =>
      lifecycle.onDeregister('consul', () => {
        throw new Error('consul down');
      }),
    );
    expect(report).toMatchObject({ outcome: 'clean', exitCode: 0 });
    expect(line).toMatch(/deregistered consul error \d+ms \("consul down"\);.*hooks 0 ok, 0 failed; exit 0$/);
  });

  it('uses the configured codes', async () => {
    const failed = await outcome({ exitCodes: { failed: 70 } }, ({ lifecycle }) =>
      lifecycle.onShutdown('x', () => {
        throw new Error('x');
      }),
    );
    expect(failed.report.exitCode).toBe(70);
    const forced = await outcome({ exitCodes: { forced: 75 } }, () => {}, 'forced');
    expect(forced.report.exitCode).toBe(75);
  });
});

describe('readiness', () => {
  it('is reported once the adapter serves and install() has run, whichever comes last', async () => {
    const { adapter, lifecycle } = setup({ readiness: 'manual', signals: { exit: false, signals: { SIGTERM: false, SIGINT: false, SIGHUP: false, SIGQUIT: false } } });
    let reported: boolean | undefined;
    void lifecycle.reportReady().then((told) => (reported = told));
    adapter.listening.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reported).toBeUndefined(); // serving, but no signal handlers yet
    lifecycle.install();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reported).toBe(false); // told nobody: no starter (QUIESCE_READY_FD) in this test
    lifecycle.uninstall();
  });

  it('install() reports it by itself (readiness "auto"), once the adapter serves', async () => {
    const { adapter, lifecycle } = setup({ signals: { exit: false, signals: { SIGTERM: false, SIGINT: false, SIGHUP: false, SIGQUIT: false } } });
    lifecycle.install();
    expect(adapter.calls.map((c) => c.call)).toEqual(['ready']);
    let reported: boolean | undefined;
    void lifecycle.reportReady().then((told) => (reported = told));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reported).toBeUndefined(); // not serving yet
    adapter.listening.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(reported).toBe(false);
    expect(adapter.calls.filter((c) => c.call === 'ready')).toHaveLength(1);
    lifecycle.uninstall();
  });

  it('with readiness "manual", install() does not ask the adapter', () => {
    const { adapter, lifecycle } = setup({ readiness: 'manual', signals: { exit: false, signals: { SIGTERM: false, SIGINT: false, SIGHUP: false, SIGQUIT: false } } });
    lifecycle.install();
    expect(adapter.calls).toEqual([]);
    lifecycle.uninstall();
  });
});

describe('options', () => {
  it.each([
    ['adapter', { adapter: {} }],
    ['adapter', { adapter: { name: 'old', stopAccepting: () => Promise.resolve(), tracker: {}, dispose() {} } }],
    ['readiness', { readiness: 'later' }],
    ['logFormat', { logFormat: 'yaml' }],
  ])('rejects a bad %s with an error naming it', (option, options) => {
    const clock = new ManualClock();
    const attempt = () => createLifecycle({ adapter: new FakeAdapter(clock), ...options } as never);
    expect(attempt).toThrow(LifecycleOptionError);
    expect(attempt).toThrow(new RegExp(`^Invalid ${option}`));
  });
});

describe('logFormat', () => {
  it('"json" writes the one report line as one JSON object with the stable field names', async () => {
    const { adapter, lifecycle, lines, clock } = setup({ logFormat: 'json', deadlineMs: 5_000 });
    lifecycle.onCleanup('db', () => {});
    const done = lifecycle.shutdown('SIGTERM');
    await clock.advance(0);
    adapter.drained.resolve(drainReport('drained'));
    const report = await done;
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual([
      'event', 'schemaVersion', 'time', 'level', 'reason', 'outcome', 'exitCode', 'durationMs', 'deadlineMs',
      'deadlineHit', 'phases', 'drain', 'deregistration', 'hooks', 'cleanup', 'failures',
    ]);
    expect(line).toMatchObject({ event: 'quiesce.shutdown', schemaVersion: 1, level: 'info', reason: 'SIGTERM', outcome: 'clean', exitCode: report.exitCode, deadlineMs: 5_000, deadlineHit: false, failures: [] });
    expect(Object.keys(line['phases'] as object)).toEqual(['lame-duck', 'deregister', 'stop-accepting', 'drain', 'cleanup']);
    expect(line['cleanup']).toEqual({ total: 1, ok: 1, error: 0, timeout: 0, aborted: 0 });
  });

  it('"text" (the default) writes the human line', async () => {
    for (const options of [{}, { logFormat: 'text' as const }]) {
      const { adapter, lifecycle, lines, clock } = setup(options);
      const done = lifecycle.shutdown('SIGTERM');
      await clock.advance(0);
      adapter.drained.resolve(drainReport('drained'));
      expect(lines).toEqual([formatShutdownReport(await done)]);
    }
  });
});
