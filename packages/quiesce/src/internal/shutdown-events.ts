import { quiesceChannels } from '@quiesce/core';
import type { ShutdownPhase, ShutdownPhaseName, ShutdownReport } from '../shutdown-report.ts';

/*
 * The lifecycle's side of the event catalog (`quiesce:shutdown:*`): one object per shutdown, so
 * that the lifecycle publishes with one short call at each step. Every method checks
 * `hasSubscribers` before it builds anything: with nobody listening a call costs a property read.
 */

/** The lifecycle settings a `quiesce:shutdown:start` message reports. */
export interface ShutdownSettings {
  readonly adapter: { readonly name: string };
  readonly deadlineMs: number;
  readonly lameDuckMs: number;
}

/** Publishes the messages of one shutdown, all carrying its {@link ShutdownEvents.shutdownId}. */
export interface ShutdownEvents {
  readonly shutdownId: number;
  /** `quiesce:shutdown:start`; `cleanupReserveMs` is the reserve this shutdown applies (0 without cleanup hooks). */
  start(reason: string, settings: ShutdownSettings, cleanupReserveMs: number): void;
  /** `quiesce:shutdown:phase:start`. */
  phaseStart(phase: ShutdownPhaseName, startMs: number): void;
  /** `quiesce:shutdown:phase:end`, with the phase as the report records it. */
  phaseEnd(phase: ShutdownPhase): void;
  /** `quiesce:shutdown:end`: the final report. Publish it before telemetry is flushed, so the flush carries it. */
  end(report: ShutdownReport): void;
}

let lastShutdownId = 0;

/** Starts the events of a new shutdown: numbers it (from 1, per process) and publishes nothing yet. */
export function shutdownEvents(): ShutdownEvents {
  const shutdownId = ++lastShutdownId;
  const { shutdownStart, shutdownPhaseStart, shutdownPhaseEnd, shutdownEnd } = quiesceChannels;
  return {
    shutdownId,
    start(reason, settings, cleanupReserveMs) {
      if (!shutdownStart.hasSubscribers) return;
      shutdownStart.publish({
        shutdownId,
        reason,
        kind: reason === 'restart' ? 'restart' : 'shutdown',
        adapter: settings.adapter.name,
        deadlineMs: settings.deadlineMs,
        lameDuckMs: settings.lameDuckMs,
        cleanupReserveMs,
      });
    },
    phaseStart(phase, startMs) {
      if (shutdownPhaseStart.hasSubscribers) shutdownPhaseStart.publish({ shutdownId, phase, startMs });
    },
    phaseEnd(phase) {
      if (!shutdownPhaseEnd.hasSubscribers) return;
      shutdownPhaseEnd.publish({ shutdownId, phase: phase.name, startMs: phase.startMs, durationMs: phase.durationMs });
    },
    end(report) {
      if (shutdownEnd.hasSubscribers) shutdownEnd.publish({ ...report, shutdownId });
    },
  };
}
