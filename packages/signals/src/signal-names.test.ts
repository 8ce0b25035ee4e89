import { describe, expect, it } from 'vitest';
import { SignalsOptionError } from './errors.ts';
import { isSignalName, type SignalName, signalNumber } from './signal-names.ts';

describe('signalNumber', () => {
  it('gives the Linux numbers by default', () => {
    expect(signalNumber('SIGHUP')).toBe(1);
    expect(signalNumber('SIGINT')).toBe(2);
    expect(signalNumber('SIGQUIT')).toBe(3);
    expect(signalNumber('SIGKILL')).toBe(9);
    expect(signalNumber('SIGUSR1')).toBe(10);
    expect(signalNumber('SIGUSR2')).toBe(12);
    expect(signalNumber('SIGTERM')).toBe(15);
  });

  it('gives the macOS numbers for darwin, where SIGUSR1/SIGUSR2 are 30/31', () => {
    expect(signalNumber('SIGTERM', 'darwin')).toBe(15);
    expect(signalNumber('SIGINT', 'darwin')).toBe(2);
    expect(signalNumber('SIGUSR1', 'darwin')).toBe(30);
    expect(signalNumber('SIGUSR2', 'darwin')).toBe(31);
    expect(signalNumber('SIGCHLD', 'darwin')).toBe(20);
  });

  it('refuses an unknown signal name, naming it and listing valid ones', () => {
    const error = catchError(() => signalNumber('SIGFOO' as SignalName));
    expect(error).toBeInstanceOf(SignalsOptionError);
    expect(error).toMatchObject({ option: 'signal', value: 'SIGFOO', code: 'QUIESCE_SIGNALS_INVALID_OPTION' });
    expect((error as Error).message).toContain('"SIGFOO"');
    expect((error as Error).message).toContain('"SIGTERM"');
    expect(() => signalNumber('TERM' as SignalName)).toThrow(SignalsOptionError);
    expect(() => signalNumber('sigterm' as SignalName)).toThrow(SignalsOptionError);
    expect(() => signalNumber('toString' as SignalName)).toThrow(SignalsOptionError);
  });

  it('refuses an unknown platform', () => {
    expect(() => signalNumber('SIGTERM', 'win32' as 'linux')).toThrow(/Invalid platform: "win32"/);
  });
});

describe('isSignalName', () => {
  it('accepts supported names only', () => {
    expect(isSignalName('SIGTERM')).toBe(true);
    expect(isSignalName('SIGWINCH')).toBe(true);
    expect(isSignalName('SIGPWR')).toBe(false); // Linux-only
    expect(isSignalName('SIGINFO')).toBe(false); // macOS-only
    expect(isSignalName('TERM')).toBe(false);
    expect(isSignalName(15)).toBe(false);
    expect(isSignalName('constructor')).toBe(false);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
