/**
 * How one hook ended: `ok` (settled), `error` (threw or rejected), `timeout` (its own `timeoutMs`
 * passed), `aborted` (the global deadline passed first, or its phase was never reached).
 */
export type HookStatus = 'ok' | 'error' | 'timeout' | 'aborted';

/** The outcome of one hook. */
export interface HookResult {
  readonly name: string;
  readonly phase: string;
  readonly status: HookStatus;
  /** Clock reading when the hook started, or `undefined` when its phase was never reached. */
  readonly startedAt: number | undefined;
  readonly durationMs: number;
  /** What the hook threw, or the timeout / deadline error; `undefined` when `ok`. */
  readonly error: unknown;
}

/** The outcome of one phase. */
export interface PhaseResult {
  readonly name: string;
  /** `undefined` when the deadline passed before the phase began. */
  readonly startedAt: number | undefined;
  readonly durationMs: number;
  readonly hooks: number;
}

/** Counts of hooks by status. */
export interface HookTotals {
  readonly total: number;
  readonly ok: number;
  readonly error: number;
  readonly timeout: number;
  readonly aborted: number;
}

/** Everything a shutdown run did, for logs, metrics and the exit-code policy. */
export interface HooksReport {
  readonly startedAt: number;
  readonly durationMs: number;
  /** True when the global deadline (or the outer signal) cut the run short. */
  readonly deadlineHit: boolean;
  /** True when every hook ended `ok`. */
  readonly ok: boolean;
  readonly phases: readonly PhaseResult[];
  readonly hooks: readonly HookResult[];
  readonly totals: HookTotals;
}
