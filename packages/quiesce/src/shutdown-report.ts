import { describeError } from '@quiesce/core';
import type { DrainReport } from '@quiesce/drain';
import type { HookResult, HooksReport } from '@quiesce/hooks';

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

/** At most this many failed hooks are named in the line; the rest are counted. */
const MAX_NAMED_FAILURES = 5;
/** A failed hook's error message is cut to this many characters in the line. */
const MAX_MESSAGE_CHARS = 120;

/**
 * Formats a report as the one line Quiesce logs, e.g.
 * `quiesce: shutdown clean in 312ms (SIGTERM): lame-duck 0ms, drain 305ms; deregistered etcd ok 4ms; requests 5 completed, 0 cut; sockets 3 idle-closed, 0 preconnects, 0 force-closed; websockets 2 closed, 0 cut; streams 1 ended, 0 cut; hooks 2 ok, 0 failed; exit 0`
 * (the `deregistered` part only when registries were deregistered, each with its status; `websockets`
 * only when upgraded connections were open during shutdown (closed: by the close handshake or FIN,
 * cut: destroyed at the deadline); `streams` only when responses were streaming as the drain began,
 * ended by the application or cut at the deadline; `hooks`
 * counts the shutdown and cleanup hooks, which decide the exit code). Each hook that did not end
 * `ok` is named after the count, with why: `hooks 1 ok, 2 failed (stop-consumers timeout after
 * 2000ms, close-db (cleanup) error "connect ECONNREFUSED 127.0.0.1:5432"); exit 1` — the error's
 * first line, at most 120 characters, and at most 5 hooks (then `+N more`).
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
  // A deregistration that did not end ok says why in its own place: it does not change the exit code.
  const deregistered = report.deregistration.hooks.map(
    (h) => `${h.name} ${h.status} ${ms(h.durationMs)}${h.status === 'error' ? ` (${JSON.stringify(boundedMessage(h.error))})` : ''}`,
  );
  return (
    `quiesce: shutdown ${report.outcome} in ${ms(report.durationMs)} (${report.reason}): ` +
    `${phase('lame-duck')}, ${phase('drain')}; ` +
    (deregistered.length > 0 ? `deregistered ${deregistered.join(', ')}; ` : '') +
    `requests ${d.requestsCompleted} completed, ${d.requestsCut} cut; ` +
    `sockets ${d.idleClosed} idle-closed, ${d.preconnectsClosed} preconnects, ${d.forceClosed} force-closed; ` +
    longLived(d) +
    `hooks ${ok} ok, ${failed} failed${describeFailures(report)}; exit ${report.exitCode}`
  );
}

/**
 * `websockets N closed, M cut; ` when upgraded connections (WebSockets) were open during shutdown,
 * `streams N ended, M cut; ` when responses were streaming as the drain began; `''` otherwise.
 */
function longLived(d: DrainReport): string {
  const parts: string[] = [];
  if (d.upgradedAtStart + d.upgradedClosed + d.upgradedForceClosed > 0) parts.push(`websockets ${d.upgradedClosed} closed, ${d.upgradedForceClosed} cut; `);
  if (d.streamsAtStart + d.streamsCut > 0) parts.push(`streams ${Math.max(0, d.streamsAtStart - d.streamsCut)} ended, ${d.streamsCut} cut; `);
  return parts.join('');
}

/** ` (name why, …)` for every shutdown or cleanup hook that did not end ok, or `''`. */
function describeFailures(report: ShutdownReport): string {
  const groups = [
    ['shutdown', report.hooks],
    ['cleanup', report.cleanup],
  ] as const;
  const failures = groups.flatMap(([group, run]) =>
    run.hooks.filter((hook) => hook.status !== 'ok').map((hook) => `${hook.name}${group === 'shutdown' ? '' : ` (${group})`} ${why(hook)}`),
  );
  if (failures.length === 0) return '';
  const named = failures.slice(0, MAX_NAMED_FAILURES);
  const more = failures.length - named.length;
  return ` (${named.join(', ')}${more > 0 ? `, +${more} more` : ''})`;
}

/** Why one hook did not end ok, in a few words. */
function why(hook: HookResult): string {
  switch (hook.status) {
    case 'timeout': {
      const limit = (hook.error as { timeoutMs?: unknown } | undefined)?.timeoutMs;
      return `timeout after ${Math.round(typeof limit === 'number' ? limit : hook.durationMs)}ms`;
    }
    case 'aborted':
      return hook.startedAt === undefined ? 'not started (deadline)' : 'aborted at the deadline';
    default:
      return `error ${JSON.stringify(boundedMessage(hook.error))}`;
  }
}

/** The first line of what a hook threw, whitespace collapsed, secrets redacted, cut to {@link MAX_MESSAGE_CHARS}. */
function boundedMessage(error: unknown): string {
  return describeError(error, { brief: true, maxLength: MAX_MESSAGE_CHARS });
}
