import type { DrainReport } from '@quiesce/drain';
import type { HooksReport } from '@quiesce/hooks';

/** The named steps of the shutdown sequence, in order. */
export type ShutdownPhaseName = 'lame-duck' | 'deregister' | 'stop-accepting' | 'drain' | 'cleanup';

/** When one step ran. */
export interface ShutdownPhase {
  readonly name: ShutdownPhaseName;
  /** Milliseconds after the start of shutdown. */
  readonly startMs: number;
  readonly durationMs: number;
}

/**
 * How shutdown ended: `clean` (everything drained, every shutdown and cleanup hook ok), `failed`
 * (drained in time but a shutdown or cleanup hook failed or timed out), `forced` (the deadline cut
 * requests, sockets or hooks). Deregistration results do not change it.
 */
export type ShutdownOutcome = 'clean' | 'failed' | 'forced';

/** Everything one graceful shutdown did. Logged as one line and available as an object. */
export interface ShutdownReport {
  /** What started it: a signal name, `manual`, or an error description. */
  readonly reason: string;
  readonly outcome: ShutdownOutcome;
  /**
   * The code the process exits with (the signal policy exits with exactly this): 0 when `clean`;
   * `exitCodes.failed` (1) when a shutdown or cleanup hook failed or timed out; `exitCodes.forced`
   * (1) when the deadline cut requests, sockets or hooks; `exitCodes.error` (1) when an uncaught
   * error started a shutdown that was otherwise clean. A failed or timed-out deregistration is
   * reported (in `deregistration` and by name in the line) and does not change the code: the
   * registry drops the instance by itself when its lease or health check expires.
   */
  readonly exitCode: number;
  readonly durationMs: number;
  readonly deadlineMs: number;
  readonly phases: readonly ShutdownPhase[];
  readonly drain: DrainReport;
  /** Registry deregistration hooks, run at the start of the lame duck. */
  readonly deregistration: HooksReport;
  /** The application's shutdown hooks, run concurrently with the drain. */
  readonly hooks: HooksReport;
  /** Final cleanup hooks, run after the drain. */
  readonly cleanup: HooksReport;
}

/**
 * Formats a report as the one line Quiesce logs, e.g.
 * `quiesce: shutdown clean in 312ms (SIGTERM): lame-duck 0ms, drain 305ms; deregistered etcd ok 4ms; requests 5 completed, 0 cut; sockets 3 idle-closed, 0 preconnects, 0 force-closed; hooks 2 ok, 0 failed; exit 0`
 * (the `deregistered` part only when registries were deregistered, each with its status; `hooks`
 * counts the shutdown and cleanup hooks, which decide the exit code).
 *
 * @example
 * ```ts
 * lifecycle.shutdown().then((report) => console.log(formatShutdownReport(report)));
 * ```
 */
export function formatShutdownReport(report: ShutdownReport): string {
  const ms = (n: number): string => `${Math.round(n)}ms`;
  const phase = (name: ShutdownPhaseName): string => {
    const found = report.phases.find((p) => p.name === name);
    return `${name} ${found ? ms(found.durationMs) : '-'}`;
  };
  // The hooks that decide the exit code; deregistrations are named with their status on their own.
  const counted = [report.hooks, report.cleanup];
  const ok = counted.reduce((n, r) => n + r.totals.ok, 0);
  const failed = counted.reduce((n, r) => n + r.totals.total - r.totals.ok, 0);
  const d = report.drain;
  const deregistered = report.deregistration.hooks.map((h) => `${h.name} ${h.status} ${ms(h.durationMs)}`);
  return (
    `quiesce: shutdown ${report.outcome} in ${ms(report.durationMs)} (${report.reason}): ` +
    `${phase('lame-duck')}, ${phase('drain')}; ` +
    (deregistered.length > 0 ? `deregistered ${deregistered.join(', ')}; ` : '') +
    `requests ${d.requestsCompleted} completed, ${d.requestsCut} cut; ` +
    `sockets ${d.idleClosed} idle-closed, ${d.preconnectsClosed} preconnects, ${d.forceClosed} force-closed` +
    (d.upgradedAtStart > 0 ? ` (${d.upgradedForceClosed}/${d.upgradedAtStart} upgraded)` : '') +
    `; hooks ${ok} ok, ${failed} failed; exit ${report.exitCode}`
  );
}
