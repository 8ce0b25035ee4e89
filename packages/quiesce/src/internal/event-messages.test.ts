// The catalog's messages are the packages' own result objects, so that each publisher hands over
// what it built anyway (`channel.publish(result)`): these assignments stop compiling (npm run
// typecheck) when a result type and its message drift apart.
import type { DrainEndMessage, DrainProgressMessage, HookEndMessage, HookRunMessage, RegistryCallMessage, ShutdownEndMessage } from '@quiesce/core';
import type { DrainReport, TrackerStats } from '@quiesce/drain';
import type { HookResult, HooksReport } from '@quiesce/hooks';
import type { RegistryResult } from '@quiesce/registry';
import { describe, expect, it } from 'vitest';
import type { ShutdownReport } from '../shutdown-report.ts';

const asHookEnd = (result: HookResult): HookEndMessage => result;
const asHookRun = (report: HooksReport): HookRunMessage => report;
const asDrainEnd = (report: DrainReport): DrainEndMessage => report;
const asDrainProgress = (stats: TrackerStats): DrainProgressMessage => stats;
const asRegistryCall = (result: RegistryResult): RegistryCallMessage => result;
const asShutdownEnd = (report: ShutdownReport, shutdownId: number): ShutdownEndMessage => ({ ...report, shutdownId });

describe('event messages', () => {
  it('are the result objects the packages build anyway (checked by the type checker)', () => {
    const hook: HookResult = { name: 'db', phase: 'cleanup', status: 'ok', startedAt: 0, durationMs: 1, error: undefined };
    expect(asHookEnd(hook)).toBe(hook);
    expect([asHookRun, asDrainEnd, asDrainProgress, asRegistryCall, asShutdownEnd].every((f) => typeof f === 'function')).toBe(true);
  });
});
