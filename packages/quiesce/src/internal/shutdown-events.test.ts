import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShutdownReport } from '../shutdown-report.ts';
import { shutdownEvents } from './shutdown-events.ts';

const names = ['quiesce:shutdown:start', 'quiesce:shutdown:phase:start', 'quiesce:shutdown:phase:end', 'quiesce:shutdown:end'];
const subscriptions: [string, (message: unknown, name: string | symbol) => void][] = [];
afterEach(() => {
  for (const [name, listener] of subscriptions.splice(0)) unsubscribe(name, listener);
});

function record(): [string, unknown][] {
  const got: [string, unknown][] = [];
  for (const name of names) {
    const listener = (message: unknown): void => {
      got.push([name, message]);
    };
    subscribe(name, listener);
    subscriptions.push([name, listener]);
  }
  return got;
}

const hooks = { startedAt: 0, durationMs: 0, deadlineHit: false, ok: true, phases: [], hooks: [], totals: { total: 0, ok: 0, error: 0, timeout: 0, aborted: 0 } };
const report: ShutdownReport = {
  reason: 'restart',
  outcome: 'clean',
  exitCode: 0,
  durationMs: 12,
  deadlineMs: 1_000,
  phases: [{ name: 'drain', startMs: 2, durationMs: 9 }],
  drain: {
    outcome: 'drained',
    durationMs: 9,
    inFlightAtStart: 1,
    requestsCompleted: 1,
    requestsCut: 0,
    idleClosed: 0,
    preconnectsClosed: 0,
    forceClosed: 0,
    upgradedAtStart: 0,
    upgradedClosed: 0,
    upgradedForceClosed: 0,
    streamsAtStart: 0,
    streamsCut: 0,
  },
  deregistration: hooks,
  hooks,
  cleanup: hooks,
};
const settings = { adapter: { name: 'node' }, deadlineMs: 1_000, lameDuckMs: 100 };

describe('shutdown events (the lifecycle side of quiesce:shutdown:*)', () => {
  it('publishes start, each phase and the final report, all carrying one shutdown id', () => {
    const got = record();
    const events = shutdownEvents();
    events.start('restart', settings, 500);
    events.phaseStart('drain', 2);
    events.phaseEnd({ name: 'drain', startMs: 2, durationMs: 9 });
    events.end(report);
    const id = events.shutdownId;
    expect(got).toEqual([
      ['quiesce:shutdown:start', { shutdownId: id, reason: 'restart', kind: 'restart', adapter: 'node', deadlineMs: 1_000, lameDuckMs: 100, cleanupReserveMs: 500 }],
      ['quiesce:shutdown:phase:start', { shutdownId: id, phase: 'drain', startMs: 2 }],
      ['quiesce:shutdown:phase:end', { shutdownId: id, phase: 'drain', startMs: 2, durationMs: 9 }],
      ['quiesce:shutdown:end', { ...report, shutdownId: id }],
    ]);
  });

  it('numbers shutdowns of one process from 1 upwards', () => {
    const first = shutdownEvents().shutdownId;
    expect(first).toBeGreaterThanOrEqual(1);
    expect(shutdownEvents().shutdownId).toBe(first + 1);
  });

  it('calls a signal other than restart a shutdown', () => {
    const got = record();
    shutdownEvents().start('SIGTERM', settings, 0);
    expect(got[0]![1]).toMatchObject({ reason: 'SIGTERM', kind: 'shutdown' });
  });

  it('builds nothing while nobody subscribes: not one property of the report or the settings is read', () => {
    const reads: PropertyKey[] = [];
    const watched = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(object, key, receiver) {
          reads.push(key);
          return Reflect.get(object, key, receiver);
        },
      });
    const events = shutdownEvents();
    events.start('SIGTERM', watched(settings), 0);
    events.phaseStart('drain', 0);
    events.phaseEnd(watched({ name: 'drain' as const, startMs: 0, durationMs: 1 }));
    events.end(watched(report));
    expect(reads).toEqual([]);
  });
});
