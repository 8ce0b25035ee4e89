import { describe, expect, it } from 'vitest';
import { SignalsOptionError } from './errors.ts';
import { defaultExitCodes, type ExitCodes, exitCodeFor, type StopOutcome } from './exit-codes.ts';

describe('exitCodeFor', () => {
  it('uses 0 for clean and 1 for forced, failed and error by default', () => {
    expect(defaultExitCodes).toEqual({ clean: 0, forced: 1, failed: 1, error: 1, signalBase: 128 });
    expect(exitCodeFor({ kind: 'clean' })).toBe(0);
    expect(exitCodeFor({ kind: 'forced' })).toBe(1);
    expect(exitCodeFor({ kind: 'failed' })).toBe(1);
    expect(exitCodeFor({ kind: 'error' })).toBe(1);
  });

  it('uses 128 + n for an immediate stop by signal n', () => {
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGHUP' })).toBe(129);
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGINT' })).toBe(130);
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGQUIT' })).toBe(131);
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGTERM' })).toBe(143);
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGUSR2' })).toBe(140);
  });

  it('uses the platform numbering for signals that differ (SIGUSR2 is 31 on macOS)', () => {
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGUSR2' }, {}, 'darwin')).toBe(159);
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGTERM' }, {}, 'darwin')).toBe(143);
  });

  it('merges given codes over the defaults', () => {
    const codes: Partial<ExitCodes> = { forced: 75, failed: 70, error: 3, signalBase: 0 };
    expect(exitCodeFor({ kind: 'clean' }, codes)).toBe(0);
    expect(exitCodeFor({ kind: 'forced' }, codes)).toBe(75);
    expect(exitCodeFor({ kind: 'failed' }, codes)).toBe(70);
    expect(exitCodeFor({ kind: 'error' }, codes)).toBe(3);
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGTERM' }, codes)).toBe(15);
    expect(exitCodeFor({ kind: 'signal', signal: 'SIGSYS' }, { signalBase: 224 })).toBe(255);
  });

  it('refuses bad codes, naming the exact option', () => {
    const cases: [unknown, string][] = [
      [{ clean: -1 }, 'exitCodes.clean'],
      [{ forced: 256 }, 'exitCodes.forced'],
      [{ failed: 1.5 }, 'exitCodes.failed'],
      [{ error: '1' }, 'exitCodes.error'],
      [{ signalBase: 225 }, 'exitCodes.signalBase'],
      [{ signalBase: Number.NaN }, 'exitCodes.signalBase'],
      [{ fatal: 2 }, 'exitCodes.fatal'],
      [null, 'exitCodes'],
      [[1], 'exitCodes'],
    ];
    for (const [codes, option] of cases) {
      expect(() => exitCodeFor({ kind: 'clean' }, codes as Partial<ExitCodes>)).toThrow(
        expect.objectContaining({ name: 'SignalsOptionError', option }),
      );
    }
  });

  it('refuses an unknown kind and a signal outcome without a known signal', () => {
    expect(() => exitCodeFor({ kind: 'crashed' } as unknown as StopOutcome)).toThrow(/Invalid outcome.kind: "crashed"/);
    expect(() => exitCodeFor({ kind: 'signal' })).toThrow(/Invalid outcome.signal: undefined/);
    expect(() => exitCodeFor({ kind: 'signal', signal: 'SIGNOPE' } as unknown as StopOutcome)).toThrow(SignalsOptionError);
    expect(() => exitCodeFor(null as unknown as StopOutcome)).toThrow(/Invalid outcome: null/);
  });

  it('ignores the signal for graceful kinds', () => {
    expect(exitCodeFor({ kind: 'clean', signal: 'SIGTERM' })).toBe(0);
  });
});
