import { describe, expect, it } from 'vitest';
import { ImmediateStopError, SignalsHandlerError, SignalsOptionError } from './errors.ts';
import {
  createSignalPolicy,
  type GracefulContext,
  type SignalPolicyOptions,
  type SignalsErrorSource,
} from './signal-policy.ts';

// In-process tests drive the policy with trigger() and exit: false; real signals are sent to real
// Node, Bun and Deno children in signal-policy.runtimes.test.ts.

const noop = (): void => {};

function optionError(options: unknown): SignalsOptionError {
  try {
    createSignalPolicy(options as SignalPolicyOptions);
  } catch (error) {
    if (error instanceof SignalsOptionError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

function recorder(): { errors: [SignalsErrorSource, unknown][]; onError: (error: unknown, source: SignalsErrorSource) => void } {
  const errors: [SignalsErrorSource, unknown][] = [];
  return { errors, onError: (error, source) => errors.push([source, error]) };
}

describe('createSignalPolicy validation', () => {
  it('refuses options that are not an object, or lack a graceful handler', () => {
    expect(optionError(undefined)).toMatchObject({ option: 'options', code: 'QUIESCE_SIGNALS_INVALID_OPTION' });
    expect(optionError({})).toMatchObject({ option: 'graceful', value: undefined });
    expect(optionError({ graceful: 'close' })).toMatchObject({ option: 'graceful', value: 'close' });
  });

  it('refuses an unknown option so that a typo does not silently do nothing', () => {
    const error = optionError({ graceful: noop, catchError: true });
    expect(error.option).toBe('options.catchError');
    expect(error.message).toContain('catchErrors');
  });

  it('refuses unknown signal names, naming the option and the value', () => {
    const error = optionError({ graceful: noop, signals: { SIGFOO: 'graceful' } });
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('SignalsOptionError');
    expect(error.option).toBe('signals.SIGFOO');
    expect(error.message).toMatch(/^Invalid signals\.SIGFOO: "SIGFOO"\. Expected an upper-case POSIX signal name/);
    expect(optionError({ graceful: noop, signals: { TERM: 'graceful' } }).option).toBe('signals.TERM');
    expect(optionError({ graceful: noop, signals: { SIGPWR: 'graceful' } }).option).toBe('signals.SIGPWR');
  });

  it('refuses signals no process can listen to (SIGKILL, SIGSTOP) and fault signals', () => {
    for (const signal of ['SIGKILL', 'SIGSTOP']) {
      const error = optionError({ graceful: noop, signals: { [signal]: 'graceful' } });
      expect(error.option).toBe(`signals.${signal}`);
      expect(error.message).toContain('cannot be caught');
    }
    for (const signal of ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL']) {
      expect(optionError({ graceful: noop, signals: { [signal]: 'ignore' } }).message).toContain('cannot be handled safely');
    }
    // Even `false` is refused: a SIGKILL entry means the author misunderstood something.
    expect(optionError({ graceful: noop, signals: { SIGKILL: false } }).option).toBe('signals.SIGKILL');
  });

  it('refuses an unknown intent, and restart without a restart handler', () => {
    const error = optionError({ graceful: noop, signals: { SIGTERM: 'shutdown' } });
    expect(error).toMatchObject({ option: 'signals.SIGTERM', value: 'shutdown' });
    expect(error.message).toContain('"graceful", "immediate", "restart", "ignore", or false');
    expect(optionError({ graceful: noop, signals: { SIGTERM: true } }).option).toBe('signals.SIGTERM');
    const restart = optionError({ graceful: noop, signals: { SIGUSR1: 'restart' } });
    expect(restart.option).toBe('signals.SIGUSR1');
    expect(restart.message).toContain('restart handler');
    expect(optionError({ graceful: noop, signals: ['SIGTERM'] }).option).toBe('signals');
  });

  it('refuses handlers that are not functions', () => {
    expect(optionError({ graceful: noop, waiter: 'ignore' })).toMatchObject({ option: 'waiter', value: 'ignore' });
    expect(optionError({ graceful: noop, immediate: {} }).option).toBe('immediate');
    expect(optionError({ graceful: noop, restart: true }).option).toBe('restart');
    expect(optionError({ graceful: noop, onError: 1 }).option).toBe('onError');
    expect(optionError({ graceful: noop, exit: true }).option).toBe('exit');
    expect(optionError({ graceful: noop, catchErrors: 'yes' }).option).toBe('catchErrors');
  });

  it('refuses bad exit codes, naming the key', () => {
    expect(optionError({ graceful: noop, exitCodes: { forced: 300 } })).toMatchObject({ option: 'exitCodes.forced', value: 300 });
    expect(optionError({ graceful: noop, exitCodes: { signalBase: -128 } }).option).toBe('exitCodes.signalBase');
  });
});

describe('which signals a policy listens to', () => {
  it('by default SIGTERM, SIGINT, SIGHUP, SIGQUIT, and SIGUSR2 only with a restart handler', () => {
    expect(createSignalPolicy({ graceful: noop }).signals).toEqual(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']);
    expect(createSignalPolicy({ graceful: noop, restart: noop }).signals).toEqual(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2', 'SIGQUIT']);
  });

  it('merges overrides: false drops a signal, ignore keeps listening to it, new signals are added', () => {
    const policy = createSignalPolicy({ graceful: noop, signals: { SIGHUP: false, SIGINT: 'ignore', SIGUSR1: 'graceful' } });
    expect(policy.signals).toEqual(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1']);
  });

  it('listens to nothing before install() and is not installed', () => {
    const policy = createSignalPolicy({ graceful: noop });
    expect(policy.installed).toBe(false);
    expect(policy.state).toBe('running');
    expect(policy.exitCode).toBeUndefined();
  });
});

describe('install and uninstall in this process', () => {
  it('install twice is a no-op, uninstall twice is a no-op, and re-install works', () => {
    const policy = createSignalPolicy({ graceful: noop, exit: false });
    try {
      policy.install();
      expect(policy.installed).toBe(true);
      policy.install();
      expect(policy.installed).toBe(true);
      policy.uninstall();
      expect(policy.installed).toBe(false);
      policy.uninstall();
      expect(policy.installed).toBe(false);
      policy.install();
      expect(policy.installed).toBe(true);
    } finally {
      policy.uninstall();
    }
  });
});

describe('trigger and the exit-code policy', () => {
  it('a clean graceful stop decides code 0, walking running → stopping → stopped', async () => {
    const seen: GracefulContext[] = [];
    const exits: number[] = [];
    const policy = createSignalPolicy({
      graceful: async (context) => {
        seen.push(context);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
      exit: (code) => exits.push(code),
    });
    const done = policy.trigger('graceful', 'deploy');
    expect(policy.state).toBe('stopping');
    expect(policy.exitCode).toBeUndefined();
    expect(await done).toEqual({ intent: 'graceful', signal: undefined, kind: 'clean', code: 0 });
    expect(policy.state).toBe('stopped');
    expect(policy.exitCode).toBe(0);
    expect(exits).toEqual([0]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ signal: undefined, reason: 'deploy' });
    expect(seen[0]!.abortSignal.aborted).toBe(false);
  });

  it('runs the graceful handler once: a second trigger returns the same result and does not escalate', async () => {
    let calls = 0;
    const policy = createSignalPolicy({ graceful: () => void calls++, exit: false });
    const first = policy.trigger('graceful');
    const second = policy.trigger('graceful');
    expect(second).toBe(first);
    expect((await first).kind).toBe('clean');
    await policy.trigger('graceful');
    expect(calls).toBe(1);
  });

  it('maps the reported outcome to forced / failed codes (forced wins over failed)', async () => {
    const codes = { forced: 75, failed: 70 };
    const run = async (outcome: { forced?: boolean; failed?: boolean }) =>
      (await createSignalPolicy({ graceful: () => outcome, exit: false, exitCodes: codes }).trigger('graceful')).code;
    expect(await run({ forced: true })).toBe(75);
    expect(await run({ failed: true })).toBe(70);
    expect(await run({ forced: true, failed: true })).toBe(75);
    expect(await run({ forced: false, failed: false })).toBe(0);
    expect(await run({})).toBe(0);
  });

  it("exits with the exit code the graceful handler decided (a lifecycle's report), not one mapped again", async () => {
    const exits: number[] = [];
    const result = await createSignalPolicy({
      graceful: () => ({ forced: true, exitCode: 3 }),
      exit: (code) => exits.push(code),
      exitCodes: { forced: 75 },
    }).trigger('graceful');
    expect(result).toEqual({ intent: 'graceful', signal: undefined, kind: 'forced', code: 3 });
    expect(exits).toEqual([3]);
    const clean = await createSignalPolicy({ graceful: () => ({ exitCode: 0 }), exit: false }).trigger('graceful');
    expect(clean).toMatchObject({ kind: 'clean', code: 0 });
  });

  it('a decided exit code outside 0–255 is a bad outcome: failed, reported to onError', async () => {
    const { errors, onError } = recorder();
    const result = await createSignalPolicy({ graceful: () => ({ exitCode: 300 }), exit: false, onError }).trigger('graceful');
    expect(result).toMatchObject({ kind: 'failed', code: 1 });
    expect((errors[0]![1] as SignalsHandlerError).message).toContain('exitCode');
  });

  it('a graceful handler that rejects or throws counts as failed and is reported to onError', async () => {
    for (const graceful of [
      async () => {
        throw new Error('rejected');
      },
      () => {
        throw new Error('thrown');
      },
    ]) {
      const { errors, onError } = recorder();
      const result = await createSignalPolicy({ graceful, exit: false, onError }).trigger('graceful');
      expect(result).toMatchObject({ kind: 'failed', code: 1 });
      expect(errors).toHaveLength(1);
      expect(errors[0]![0]).toBe('graceful');
    }
  });

  it('a graceful handler that resolves to something other than an outcome counts as failed', async () => {
    const { errors, onError } = recorder();
    const graceful = (() => 'done') as unknown as SignalPolicyOptions['graceful'];
    const result = await createSignalPolicy({ graceful, exit: false, onError }).trigger('graceful');
    expect(result.kind).toBe('failed');
    expect(errors[0]![1]).toBeInstanceOf(SignalsHandlerError);
    expect((errors[0]![1] as SignalsHandlerError).message).toContain('"done"');
  });

  it('trigger("immediate") during a graceful stop aborts its abortSignal, calls immediate, and decides forced', async () => {
    let abortSignal: AbortSignal | undefined;
    let finish: () => void = noop;
    const immediateCalls: unknown[] = [];
    const policy = createSignalPolicy({
      graceful: (context) => {
        abortSignal = context.abortSignal;
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
      immediate: (context) => immediateCalls.push(context),
      exit: false,
    });
    void policy.trigger('graceful');
    const result = await policy.trigger('immediate', 'operator');
    expect(result).toEqual({ intent: 'immediate', signal: undefined, kind: 'forced', code: 1 });
    if (!abortSignal) throw new Error('the graceful handler did not run');
    expect(abortSignal.aborted).toBe(true);
    expect(abortSignal.reason).toBeInstanceOf(ImmediateStopError);
    expect((abortSignal.reason as ImmediateStopError).cause).toBe('operator');
    expect(immediateCalls).toEqual([{ signal: undefined, reason: 'operator', code: 1 }]);
    // The graceful handler settling late changes nothing.
    finish();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(policy.exitCode).toBe(1);
    expect(await policy.done).toBe(result);
  });

  it('trigger("immediate") before any stop never calls the graceful handler', async () => {
    let gracefulCalls = 0;
    const policy = createSignalPolicy({ graceful: () => void gracefulCalls++, exit: false });
    expect((await policy.trigger('immediate')).kind).toBe('forced');
    await policy.trigger('graceful');
    expect(gracefulCalls).toBe(0);
  });

  it('an immediate handler or exit function that throws is reported and the code still stands', async () => {
    const { errors, onError } = recorder();
    const policy = createSignalPolicy({
      graceful: noop,
      immediate: () => {
        throw new Error('last words failed');
      },
      exit: () => {
        throw new Error('exit failed');
      },
      onError,
    });
    expect((await policy.trigger('immediate')).code).toBe(1);
    expect(errors.map(([source]) => source)).toEqual(['immediate', 'exit']);
  });

  it('a throwing onError does not change the outcome', async () => {
    const policy = createSignalPolicy({
      graceful: () => Promise.reject(new Error('x')),
      onError: () => {
        throw new Error('logger down');
      },
      exit: false,
    });
    expect((await policy.trigger('graceful')).kind).toBe('failed');
  });

  it('trigger refuses intents other than graceful and immediate', () => {
    const policy = createSignalPolicy({ graceful: noop, exit: false });
    expect(() => policy.trigger('restart' as 'graceful')).toThrow(
      expect.objectContaining({ name: 'SignalsOptionError', option: 'intent', value: 'restart' }),
    );
    expect(policy.state).toBe('running');
  });
});
