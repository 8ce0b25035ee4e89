import { once } from 'node:events';
import { createServer } from 'node:http';
import type { DrainReport } from '@quiesce/drain';
import type { HookResult, HooksReport } from '@quiesce/hooks';
import { createNodeAdapter } from '@quiesce/node';
import { describe, expect, it } from 'vitest';
import { createLifecycle } from './lifecycle.ts';
import { formatShutdownReportJson, shutdownReportJson } from './shutdown-report-json.ts';
import type { ShutdownReport } from './shutdown-report.ts';

const time = new Date('2026-12-06T10:00:00.000Z');

function hooksReport(hooks: HookResult[] = [], deadlineHit = false): HooksReport {
  const count = (status: HookResult['status']): number => hooks.filter((h) => h.status === status).length;
  const totals = { total: hooks.length, ok: count('ok'), error: count('error'), timeout: count('timeout'), aborted: count('aborted') };
  return { startedAt: 0, durationMs: 1, deadlineHit, ok: totals.ok === totals.total, phases: [], hooks, totals };
}

const drain: DrainReport = {
  outcome: 'drained',
  durationMs: 305.04,
  inFlightAtStart: 2,
  requestsCompleted: 5,
  requestsCut: 0,
  idleClosed: 3,
  preconnectsClosed: 1,
  forceClosed: 0,
  upgradedAtStart: 0,
  upgradedClosed: 0,
  upgradedForceClosed: 0,
  streamsAtStart: 0,
  streamsCut: 0,
};

const clean: ShutdownReport = {
  reason: 'SIGTERM',
  outcome: 'clean',
  exitCode: 0,
  durationMs: 312.449,
  deadlineMs: 10_000,
  phases: [
    { name: 'deregister', startMs: 0, durationMs: 4.26 },
    { name: 'lame-duck', startMs: 0, durationMs: 0 },
    { name: 'stop-accepting', startMs: 4.3, durationMs: 0.8 },
    { name: 'drain', startMs: 5.1, durationMs: 305.04 },
    { name: 'cleanup', startMs: 310.2, durationMs: 2.2 },
  ],
  drain,
  deregistration: hooksReport([{ name: 'etcd', phase: 'deregister', status: 'ok', startedAt: 0, durationMs: 4.26, error: undefined }]),
  hooks: hooksReport([{ name: 'queue', phase: 'shutdown', status: 'ok', startedAt: 5, durationMs: 20, error: undefined }]),
  cleanup: hooksReport(),
};

describe('formatShutdownReportJson', () => {
  it('writes one line of JSON with the stable fields, in a fixed order (a change here is a change to the format)', () => {
    const line = formatShutdownReportJson(clean, { time });
    expect(line).not.toContain('\n');
    expect(line).toMatchInlineSnapshot(
      `"{"event":"quiesce.shutdown","schemaVersion":1,"time":"2026-12-06T10:00:00.000Z","level":"info","reason":"SIGTERM","outcome":"clean","exitCode":0,"durationMs":312.4,"deadlineMs":10000,"deadlineHit":false,"phases":{"lame-duck":{"startMs":0,"durationMs":0},"deregister":{"startMs":0,"durationMs":4.3},"stop-accepting":{"startMs":4.3,"durationMs":0.8},"drain":{"startMs":5.1,"durationMs":305},"cleanup":{"startMs":310.2,"durationMs":2.2}},"drain":{"outcome":"drained","durationMs":305,"inFlightAtStart":2,"requestsCompleted":5,"requestsCut":0,"idleClosed":3,"preconnectsClosed":1,"forceClosed":0,"upgradedAtStart":0,"upgradedClosed":0,"upgradedForceClosed":0,"streamsAtStart":0,"streamsCut":0},"deregistration":[{"name":"etcd","status":"ok","durationMs":4.3,"error":null}],"hooks":{"total":1,"ok":1,"error":0,"timeout":0,"aborted":0},"cleanup":{"total":0,"ok":0,"error":0,"timeout":0,"aborted":0},"failures":[]}"`,
    );
  });

  it('a forced shutdown is level error with deadlineHit; a failed one is level warn', () => {
    const forced = shutdownReportJson({ ...clean, outcome: 'forced', exitCode: 1, drain: { ...drain, outcome: 'forced', requestsCut: 2 } }, { time });
    expect([forced.level, forced.deadlineHit, forced.drain.requestsCut]).toEqual(['error', true, 2]);
    const failed = shutdownReportJson({ ...clean, outcome: 'failed', exitCode: 1 }, { time });
    expect([failed.level, failed.deadlineHit]).toEqual(['warn', false]);
  });

  it('lists every hook that did not end ok, from every phase, with a one-line bounded error', () => {
    const long = new Error(`line one\nline two ${'x'.repeat(300)}`);
    const report: ShutdownReport = {
      ...clean,
      outcome: 'failed',
      exitCode: 1,
      deregistration: hooksReport([{ name: 'consul', phase: 'deregister', status: 'timeout', startedAt: 0, durationMs: 2000, error: new Error('consul: timeout') }]),
      hooks: hooksReport([{ name: 'queue', phase: 'shutdown', status: 'error', startedAt: 5, durationMs: 3, error: long }]),
      cleanup: hooksReport([
        { name: 'db', phase: 'cleanup', status: 'aborted', startedAt: undefined, durationMs: 0, error: 'deadline' },
        { name: 'cache', phase: 'cleanup', status: 'ok', startedAt: 1, durationMs: 1, error: undefined },
      ]),
    };
    const json = shutdownReportJson(report, { time });
    expect(json.deregistration).toEqual([{ name: 'consul', status: 'timeout', durationMs: 2000, error: 'Error: consul: timeout' }]);
    expect(json.failures.map((f) => [f.name, f.phase, f.status])).toEqual([
      ['consul', 'deregister', 'timeout'],
      ['queue', 'shutdown', 'error'],
      ['db', 'cleanup', 'aborted'],
    ]);
    const queue = json.failures[1]!;
    expect(queue.error).toMatch(/^Error: line one line two x+…$/);
    expect(queue.error).toHaveLength(200);
    expect(json.cleanup).toEqual({ total: 2, ok: 1, error: 0, timeout: 0, aborted: 1 });
    expect(formatShutdownReportJson(report, { time })).not.toContain('\n');
  });

  it('redacts a secret that a hook error quotes, as the text line does', () => {
    const error = new Error('cannot reach http://root:hunter2@10.0.0.5:2379');
    const report: ShutdownReport = { ...clean, outcome: 'failed', exitCode: 1, cleanup: hooksReport([{ name: 'etcd.close', phase: 'cleanup', status: 'error', startedAt: 1, durationMs: 1, error }]) };
    const line = formatShutdownReportJson(report, { time });
    expect(line).not.toContain('hunter2');
    expect(shutdownReportJson(report, { time }).failures[0]!.error).toBe('Error: cannot reach http://***@10.0.0.5:2379');
  });

  it('describes the report of a real shutdown of a Node server, failed cleanup hook included', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const lifecycle = createLifecycle({ adapter: createNodeAdapter(server), deadlineMs: 5_000, log: false });
    lifecycle.onCleanup('db', () => {
      throw new Error('pool already closed');
    });
    const json = JSON.parse(formatShutdownReportJson(await lifecycle.shutdown('SIGTERM')));
    expect(json).toMatchObject({ event: 'quiesce.shutdown', level: 'warn', reason: 'SIGTERM', outcome: 'failed', exitCode: 1, deadlineHit: false });
    expect(Object.keys(json.phases)).toEqual(['lame-duck', 'deregister', 'stop-accepting', 'drain', 'cleanup']);
    expect(json.failures).toEqual([{ name: 'db', phase: 'cleanup', status: 'error', durationMs: expect.any(Number), error: 'Error: pool already closed' }]);
    expect(Date.parse(json.time)).not.toBeNaN();
  });
});
