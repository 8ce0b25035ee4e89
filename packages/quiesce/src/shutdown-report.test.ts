import { ManualClock } from '@quiesce/core/testing';
import { type HooksReport, createShutdownHooks } from '@quiesce/hooks';
import { describe, expect, it } from 'vitest';
import { type ShutdownReport, formatShutdownReport } from './shutdown-report.ts';

/** Runs real hooks on a manual clock: `add` registers them, the clock is advanced by `advanceMs`. */
async function runHooks(add: (hooks: ReturnType<typeof createShutdownHooks>) => void, advanceMs = 0, deadlineMs = 10_000): Promise<HooksReport> {
  const clock = new ManualClock();
  const hooks = createShutdownHooks({ clock, phases: ['first', 'second'] });
  add(hooks);
  const run = hooks.run({ deadlineMs });
  if (advanceMs > 0) await clock.advance(advanceMs);
  return run;
}

const none = (): Promise<HooksReport> => runHooks(() => {});

function report(
  parts: { deregistration: HooksReport; hooks: HooksReport; cleanup: HooksReport },
  exitCode = 1,
  drain: Partial<ShutdownReport['drain']> = {},
): ShutdownReport {
  return {
    reason: 'SIGTERM',
    outcome: exitCode === 0 ? 'clean' : 'failed',
    exitCode,
    durationMs: 12,
    deadlineMs: 10_000,
    phases: [],
    drain: {
      outcome: 'drained',
      durationMs: 1,
      inFlightAtStart: 0,
      requestsCompleted: 0,
      requestsCut: 0,
      idleClosed: 0,
      preconnectsClosed: 0,
      forceClosed: 0,
      upgradedAtStart: 0,
      upgradedClosed: 0,
      upgradedForceClosed: 0,
      streamsAtStart: 0,
      streamsCut: 0,
      ...drain,
    },
    ...parts,
  };
}

describe('the report line names every hook that failed, and why', () => {
  it('says nothing more when every hook was ok', async () => {
    const hooks = await runHooks((h) => h.add('flush', () => {}));
    const line = formatShutdownReport(report({ deregistration: await none(), hooks, cleanup: await none() }, 0));
    expect(line).toMatch(/; hooks 1 ok, 0 failed; exit 0$/);
  });

  it('names a thrown error with its message, a timeout with its limit, and says which group', async () => {
    const hooks = await runHooks((h) => {
      h.add('stop-consumers', () => new Promise(() => {}), { timeoutMs: 2_000 });
      h.add('flush', () => {
        throw new Error('consumer is not defined');
      });
    }, 2_000);
    const cleanup = await runHooks((h) => h.add('close-db', () => Promise.reject(new TypeError('connect ECONNREFUSED 127.0.0.1:5432'))));
    const line = formatShutdownReport(report({ deregistration: await none(), hooks, cleanup }));
    expect(line).toContain(
      '; hooks 0 ok, 3 failed (stop-consumers timeout after 2000ms, flush error "consumer is not defined", close-db (cleanup) error "connect ECONNREFUSED 127.0.0.1:5432"); exit 1',
    );
  });

  it('names hooks cut by the deadline, and those never started', async () => {
    const hooks = await runHooks((h) => {
      h.add('slow', () => new Promise(() => {}), { phase: 'first' });
      h.add('later', () => {}, { phase: 'second' });
    }, 500, 500);
    const line = formatShutdownReport(report({ deregistration: await none(), hooks, cleanup: await none() }));
    expect(line).toContain('hooks 0 ok, 2 failed (slow aborted at the deadline, later not started (deadline)); exit 1');
  });

  it('bounds each message to its first line and 120 characters, and names at most 5 hooks', async () => {
    const hooks = await runHooks((h) => {
      h.add('long', () => {
        throw new Error(`${'x'.repeat(300)}\nsecond line`);
      });
      h.add('odd', () => {
        throw 'a string, not an Error';
      });
      for (let i = 0; i < 5; i++) h.add(`h${i}`, () => Promise.reject(new Error('')));
    });
    const line = formatShutdownReport(report({ deregistration: await none(), hooks, cleanup: await none() }));
    expect(line).toContain(`long error "${'x'.repeat(119)}…"`);
    expect(line).not.toContain('second line');
    expect(line).toContain('odd error "a string, not an Error"');
    expect(line).toContain('h0 error "Error", h1 error "Error", h2 error "Error", +2 more); exit 1');
  });
});

describe('the report line counts WebSockets and streams', () => {
  it('says how many WebSockets closed and how many were cut, and how many streams ended and were cut', async () => {
    const parts = { deregistration: await none(), hooks: await none(), cleanup: await none() };
    const line = formatShutdownReport(report(parts, 1, { upgradedAtStart: 3, upgradedClosed: 2, upgradedForceClosed: 1, streamsAtStart: 2, streamsCut: 1 }));
    expect(line).toContain('; sockets 0 idle-closed, 0 preconnects, 0 force-closed; websockets 2 closed, 1 cut; streams 1 ended, 1 cut; hooks 0 ok');
  });

  it('leaves both out when there were none', async () => {
    const line = formatShutdownReport(report({ deregistration: await none(), hooks: await none(), cleanup: await none() }, 0));
    expect(line).not.toMatch(/websockets|streams/);
    expect(line).toContain('force-closed; hooks 0 ok');
  });
});
