import { SignalsOptionError } from './errors.ts';
import { isSignalName, MAX_SIGNAL_NUMBER, type SignalName, type SignalPlatform, signalNumber, unknownSignal } from './signal-names.ts';

/** Exit codes for each way a stop can end. Every code is an integer from 0 to 255. */
export interface ExitCodes {
  /** The graceful handler finished cleanly. Default 0. */
  readonly clean: number;
  /** The graceful handler reported `forced` (its deadline cut work short), or `trigger('immediate')` without a signal. Default 1. */
  readonly forced: number;
  /** The graceful handler reported `failed`, rejected, threw, or returned something that is not an outcome. Default 1. */
  readonly failed: number;
  /** The stop was started by an uncaught exception or unhandled rejection (`catchErrors`) and ended cleanly. Default 1. */
  readonly error: number;
  /** An immediate stop by signal n exits with `signalBase + n`, as a shell reports death by signal. Default 128, at most 224. */
  readonly signalBase: number;
}

/**
 * The default exit codes: 0 clean, 1 forced, 1 failed, 1 error, 128 + n for an immediate stop by
 * signal n (SIGHUP 129, SIGINT 130, SIGQUIT 131, SIGTERM 143).
 *
 * @example
 * ```ts
 * createSignalPolicy({ graceful, exitCodes: { ...defaultExitCodes, forced: 75 } });
 * ```
 */
export const defaultExitCodes: Readonly<ExitCodes> = Object.freeze({
  clean: 0,
  forced: 1,
  failed: 1,
  error: 1,
  signalBase: 128,
});

/**
 * How a stop ended. When several apply, the most severe wins: `signal` (immediate) > `forced` >
 * `failed` > `error` > `clean`.
 */
export type StopKind = 'clean' | 'forced' | 'failed' | 'error' | 'signal';

/** The input of {@link exitCodeFor}; `signal` is required when `kind` is `signal`. */
export interface StopOutcome {
  readonly kind: StopKind;
  /** The signal that stopped the process immediately; only read when `kind` is `signal`. */
  readonly signal?: SignalName | undefined;
}

/**
 * The exit code for a stop outcome under the given codes (merged over {@link defaultExitCodes}):
 * `clean`/`forced`/`failed`/`error` map to their code, `signal` to `signalBase + signalNumber(signal, platform)`.
 * Throws {@link SignalsOptionError} on an unknown kind, a missing or unknown signal, or a bad code.
 *
 * @example
 * ```ts
 * exitCodeFor({ kind: 'clean' });                      // 0
 * exitCodeFor({ kind: 'signal', signal: 'SIGINT' });   // 130
 * exitCodeFor({ kind: 'forced' }, { forced: 75 });     // 75
 * ```
 */
export function exitCodeFor(outcome: StopOutcome, codes: Partial<ExitCodes> = {}, platform: SignalPlatform = 'linux'): number {
  const resolved = resolveExitCodes(codes);
  if (outcome === null || typeof outcome !== 'object') {
    throw new SignalsOptionError('outcome', outcome, 'an object such as { kind: "clean" }');
  }
  switch (outcome.kind) {
    case 'clean':
    case 'forced':
    case 'failed':
    case 'error':
      return resolved[outcome.kind];
    case 'signal':
      if (!isSignalName(outcome.signal)) throw unknownSignal('outcome.signal', outcome.signal);
      return resolved.signalBase + signalNumber(outcome.signal, platform);
    default:
      throw new SignalsOptionError('outcome.kind', outcome.kind, '"clean", "forced", "failed", "error" or "signal"');
  }
}

const codeNames = ['clean', 'forced', 'failed', 'error'] as const;

/** Validates partial exit codes and merges them over the defaults. */
export function resolveExitCodes(codes: unknown, option = 'exitCodes'): ExitCodes {
  if (codes === undefined) return defaultExitCodes;
  if (codes === null || typeof codes !== 'object' || Array.isArray(codes)) {
    throw new SignalsOptionError(option, codes, 'an object such as { forced: 1, failed: 1 }');
  }
  const given = codes as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(codeNames as readonly string[]).includes(key) && key !== 'signalBase') {
      throw new SignalsOptionError(`${option}.${key}`, given[key], 'no such key; use clean, forced, failed, error or signalBase');
    }
  }
  const resolved = { ...defaultExitCodes };
  for (const key of codeNames) {
    const value = given[key];
    if (value === undefined) continue;
    if (!isExitCode(value, 255)) throw new SignalsOptionError(`${option}.${key}`, value, 'an integer from 0 to 255');
    resolved[key] = value;
  }
  const base = given['signalBase'];
  if (base !== undefined) {
    const max = 255 - MAX_SIGNAL_NUMBER;
    if (!isExitCode(base, max)) {
      throw new SignalsOptionError(`${option}.signalBase`, base, `an integer from 0 to ${max}, so that base + signal number stays within 255`);
    }
    resolved.signalBase = base;
  }
  return Object.freeze(resolved);
}

function isExitCode(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}
