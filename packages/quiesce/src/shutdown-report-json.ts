import { describeError } from '@quiesce/core';
import type { HookTotals, HooksReport } from '@quiesce/hooks';
import type { ShutdownOutcome, ShutdownPhaseName, ShutdownReport } from './shutdown-report.ts';


/** A hook that did not end `ok`, in {@link ShutdownReportJson.failures}. */
export interface ShutdownReportJsonFailure {
  readonly name: string;
  /** `deregister`, `shutdown` (beside the drain) or `cleanup`. */
  readonly phase: string;
  readonly status: 'error' | 'timeout' | 'aborted';
  readonly durationMs: number;
  /** `Name: message` of what it threw or why it was cut, on one line, secrets redacted, at most 200 characters (`describeError`). */
  readonly error: string;
}

/**
 * The JSON report: one object per shutdown, for log pipelines. Field names are stable (a field may
 * be added, never renamed or removed without a major version, and `schemaVersion` says which set
 * this is); milliseconds are rounded to 0.1.
 */
export interface ShutdownReportJson {
  /** Always `quiesce.shutdown`: what a pipeline filters on. */
  readonly event: 'quiesce.shutdown';
  readonly schemaVersion: 1;
  /** When the report was formatted (the end of the shutdown), ISO 8601 in UTC. */
  readonly time: string;
  /** `info` for `clean`, `warn` for `failed`, `error` for `forced`. */
  readonly level: 'info' | 'warn' | 'error';
  readonly reason: string;
  readonly outcome: ShutdownOutcome;
  readonly exitCode: number;
  readonly durationMs: number;
  readonly deadlineMs: number;
  /** The deadline cut requests, sockets or hooks (the same as `outcome === 'forced'`). */
  readonly deadlineHit: boolean;
  /**
   * Each phase that ran, by name, in sequence order (`lame-duck`, `deregister`, `stop-accepting`,
   * `drain`, `cleanup`): when it started (ms after the signal) and how long it took.
   */
  readonly phases: Readonly<Partial<Record<ShutdownPhaseName, { readonly startMs: number; readonly durationMs: number }>>>;
  readonly drain: {
    readonly outcome: 'drained' | 'forced';
    readonly durationMs: number;
    readonly inFlightAtStart: number;
    readonly requestsCompleted: number;
    readonly requestsCut: number;
    readonly idleClosed: number;
    readonly preconnectsClosed: number;
    readonly forceClosed: number;
    readonly upgradedAtStart: number;
    /** Upgraded connections (WebSockets) closed from the start of shutdown on, by handshake or FIN: not cut. */
    readonly upgradedClosed: number;
    /** Upgraded connections destroyed at the deadline. */
    readonly upgradedForceClosed: number;
    /** Streaming responses (Server-Sent Events, downloads) under way when the drain began. */
    readonly streamsAtStart: number;
    /** Streaming responses cut at the deadline. */
    readonly streamsCut: number;
  };
  /** One entry per deregistration (registry), in the order they were registered. */
  readonly deregistration: readonly {
    readonly name: string;
    readonly status: 'ok' | 'error' | 'timeout' | 'aborted';
    readonly durationMs: number;
    readonly error: string | null;
  }[];
  /** Counts of the shutdown hooks (run beside the drain) by status. */
  readonly hooks: HookTotals;
  /** Counts of the cleanup hooks by status. */
  readonly cleanup: HookTotals;
  /** Every hook of any phase that did not end `ok`. */
  readonly failures: readonly ShutdownReportJsonFailure[];
}

/** Options for {@link shutdownReportJson} and {@link formatShutdownReportJson}. */
export interface ShutdownReportJsonOptions {
  /** The `time` field. Default: now. */
  readonly time?: Date;
}

/**
 * The JSON report of a shutdown as an object; see {@link ShutdownReportJson} for every field.
 *
 * @example
 * ```ts
 * const report = await lifecycle.shutdown();
 * if (shutdownReportJson(report).failures.length > 0) alert();
 * ```
 */
export function shutdownReportJson(report: ShutdownReport, options: ShutdownReportJsonOptions = {}): ShutdownReportJson {
  const phases: Partial<Record<ShutdownPhaseName, { startMs: number; durationMs: number }>> = {};
  // Keys in sequence order, not in the order the phases happened to end (the lame duck and the
  // deregistration run together), so that one kind of shutdown always reads the same.
  const ordered = [...report.phases].sort((a, b) => phaseRank(a.name) - phaseRank(b.name));
  for (const phase of ordered) phases[phase.name] = { startMs: ms(phase.startMs), durationMs: ms(phase.durationMs) };
  const d = report.drain;
  const failures: ShutdownReportJsonFailure[] = [];
  for (const run of [report.deregistration, report.hooks, report.cleanup]) failures.push(...failuresOf(run));
  return {
    event: 'quiesce.shutdown',
    schemaVersion: 1,
    time: (options.time ?? new Date()).toISOString(),
    level: report.outcome === 'clean' ? 'info' : report.outcome === 'failed' ? 'warn' : 'error',
    reason: report.reason,
    outcome: report.outcome,
    exitCode: report.exitCode,
    durationMs: ms(report.durationMs),
    deadlineMs: report.deadlineMs,
    deadlineHit: report.outcome === 'forced',
    phases,
    drain: {
      outcome: d.outcome,
      durationMs: ms(d.durationMs),
      inFlightAtStart: d.inFlightAtStart,
      requestsCompleted: d.requestsCompleted,
      requestsCut: d.requestsCut,
      idleClosed: d.idleClosed,
      preconnectsClosed: d.preconnectsClosed,
      forceClosed: d.forceClosed,
      upgradedAtStart: d.upgradedAtStart,
      upgradedClosed: d.upgradedClosed,
      upgradedForceClosed: d.upgradedForceClosed,
      streamsAtStart: d.streamsAtStart,
      streamsCut: d.streamsCut,
    },
    deregistration: report.deregistration.hooks.map((hook) => ({
      name: hook.name,
      status: hook.status,
      durationMs: ms(hook.durationMs),
      error: hook.status === 'ok' ? null : describeError(hook.error),
    })),
    hooks: totals(report.hooks.totals),
    cleanup: totals(report.cleanup.totals),
    failures,
  };
}

/**
 * Formats a report as one line of JSON (no line break inside, whatever the hook errors say), for
 * log pipelines, beside or instead of {@link formatShutdownReport}'s human line. The fields are
 * those of {@link ShutdownReportJson}, in that order, e.g.
 * `{"event":"quiesce.shutdown","schemaVersion":1,"time":"2026-12-06T10:00:00.000Z","level":"info","reason":"SIGTERM","outcome":"clean","exitCode":0,"durationMs":312.4,…}`.
 *
 * @example
 * ```ts
 * const lifecycle = createLifecycle({ adapter, log: false });
 * lifecycle.shutdown().then((report) => console.log(formatShutdownReportJson(report)));
 * ```
 */
export function formatShutdownReportJson(report: ShutdownReport, options: ShutdownReportJsonOptions = {}): string {
  // JSON.stringify escapes line breaks inside strings, so the result is always one line.
  return JSON.stringify(shutdownReportJson(report, options));
}

const PHASE_ORDER: readonly string[] = ['lame-duck', 'deregister', 'stop-accepting', 'drain', 'cleanup'];

function phaseRank(name: string): number {
  const rank = PHASE_ORDER.indexOf(name);
  return rank === -1 ? PHASE_ORDER.length : rank;
}

function failuresOf(run: HooksReport): ShutdownReportJsonFailure[] {
  const failed: ShutdownReportJsonFailure[] = [];
  for (const hook of run.hooks) {
    if (hook.status === 'ok') continue;
    failed.push({ name: hook.name, phase: hook.phase, status: hook.status, durationMs: ms(hook.durationMs), error: describeError(hook.error) });
  }
  return failed;
}

function totals(t: HookTotals): HookTotals {
  return { total: t.total, ok: t.ok, error: t.error, timeout: t.timeout, aborted: t.aborted };
}

/** Milliseconds rounded to 0.1: finer than any log reader needs, coarser than clock noise. */
function ms(value: number): number {
  return Math.round(value * 10) / 10;
}
