import type { HookResult, HooksReport, PhaseResult } from './report.ts';

/** Emitted when a phase begins; phases skipped because the deadline passed emit nothing. */
export interface PhaseStartEvent {
  readonly type: 'phase-start';
  readonly phase: string;
  readonly at: number;
}
/** Emitted when every hook of a phase has ended. */
export interface PhaseEndEvent {
  readonly type: 'phase-end';
  readonly phase: string;
  readonly at: number;
  readonly result: PhaseResult;
}
/** Emitted when a hook is called. */
export interface HookStartEvent {
  readonly type: 'hook-start';
  readonly hook: string;
  readonly phase: string;
  readonly at: number;
}
/**
 * Emitted when a started hook settles, times out or is abandoned at the deadline. Hooks of phases
 * never reached have no start or end event; they appear as `aborted` in the run-end report.
 */
export interface HookEndEvent {
  readonly type: 'hook-end';
  readonly hook: string;
  readonly phase: string;
  readonly at: number;
  readonly result: HookResult;
}
/** Emitted once when the run ends, with the full report. */
export interface RunEndEvent {
  readonly type: 'run-end';
  readonly at: number;
  readonly report: HooksReport;
}

/** Every event a hooks run emits, discriminated by `type`. */
export type HooksEvent = PhaseStartEvent | PhaseEndEvent | HookStartEvent | HookEndEvent | RunEndEvent;

/** Receives run events; an exception it throws is caught and does not affect the run. */
export type HooksListener = (event: HooksEvent) => void;
