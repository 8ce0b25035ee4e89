import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.ts';
import { InvalidOptionError } from './errors.ts';
import { ManualClock } from './manual-clock.ts';
import { type OptionChecks, optionChecks } from './option-checks.ts';

class PoolOptionError extends InvalidOptionError {
  override readonly name: string = 'PoolOptionError';
  override readonly code: 'POOL_INVALID_OPTION' = 'POOL_INVALID_OPTION';
}

const check: OptionChecks = optionChecks(PoolOptionError);

function thrown(fn: () => void): PoolOptionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PoolOptionError) return error;
    throw error;
  }
  throw new Error('expected the check to throw');
}

describe('optionChecks', () => {
  it('each check passes the values its option takes', () => {
    expect(() => {
      check.duration('a', 0);
      check.duration('a', 2.5);
      check.positiveDuration('a', 0.5);
      check.durationOrFalse('a', false);
      check.durationOrFalse('a', 10);
      check.integer('a', 65_535, { min: 1, max: 65_535 });
      check.boolean('a', false);
      check.string('a', 'x');
      check.function('a', () => {});
      check.object('a', {});
      check.signal('a', new AbortController().signal);
      check.clock('a', systemClock);
      check.clock('a', new ManualClock());
      check.log('a', false);
      check.log('a', console.log);
    }).not.toThrow();
  });

  it("each check refuses a wrong value with the package's own error, naming the option and the value", () => {
    const cases: [() => void, string][] = [
      [() => check.duration('idleMs', -1), 'Invalid idleMs: -1. Expected a finite number of milliseconds ≥ 0.'],
      [() => check.duration('idleMs', Number.NaN), 'Invalid idleMs: NaN. Expected a finite number of milliseconds ≥ 0.'],
      [() => check.duration('idleMs', Number.POSITIVE_INFINITY), 'Invalid idleMs: Infinity. Expected a finite number of milliseconds ≥ 0.'],
      [() => check.duration('idleMs', '10'), 'Invalid idleMs: "10". Expected a finite number of milliseconds ≥ 0.'],
      [() => check.duration('idleMs', undefined), 'Invalid idleMs: undefined. Expected a finite number of milliseconds ≥ 0.'],
      [() => check.positiveDuration('timeoutMs', 0), 'Invalid timeoutMs: 0. Expected a finite number of milliseconds > 0.'],
      [() => check.durationOrFalse('keepAliveMs', true), 'Invalid keepAliveMs: true. Expected false or a finite number of milliseconds ≥ 0.'],
      [() => check.integer('port', 1.5, { min: 1, max: 65_535 }), 'Invalid port: 1.5. Expected a whole number from 1 to 65535.'],
      [() => check.integer('port', 0, { min: 1, max: 65_535 }), 'Invalid port: 0. Expected a whole number from 1 to 65535.'],
      [() => check.boolean('inherit', 'yes'), 'Invalid inherit: "yes". Expected true or false.'],
      [() => check.string('name', ''), 'Invalid name: "". Expected a non-empty string.'],
      [() => check.function('onError', {}), 'Invalid onError: {}. Expected a function.'],
      [() => check.object('options', null), 'Invalid options: null. Expected an object.'],
      [() => check.object('options', []), 'Invalid options: []. Expected an object.'],
      [() => check.object('options', () => {}), 'Invalid options: function (anonymous). Expected an object.'],
      [() => check.signal('signal', 'stop'), 'Invalid signal: "stop". Expected an AbortSignal.'],
      [() => check.clock('clock', { now: () => 0 }), 'Invalid clock: {}. Expected an object with now(), setTimeout() and clearTimeout().'],
      [() => check.clock('clock', null), 'Invalid clock: null. Expected an object with now(), setTimeout() and clearTimeout().'],
      [() => check.log('log', 'console'), 'Invalid log: "console". Expected a function that takes one line of text, or false for silence.'],
      [() => check.log('log', true), 'Invalid log: true. Expected a function that takes one line of text, or false for silence.'],
    ];
    for (const [run, message] of cases) {
      const error = thrown(run);
      expect(error.message).toBe(message);
      expect(error.code).toBe('POOL_INVALID_OPTION');
      expect(error.option).toBe(message.slice('Invalid '.length, message.indexOf(':')));
    }
  });

  it('says what the package asks for instead of the default wording when given', () => {
    const error = thrown(() => check.function('handler', 1, 'a function (request) => Response'));

    expect(error.message).toBe('Invalid handler: 1. Expected a function (request) => Response.');
    expect(error.expected).toBe('a function (request) => Response');
  });

  it('adopt() turns an option error from a package underneath into this package’s, and leaves other errors alone', () => {
    class LowerOptionError extends InvalidOptionError {
      override readonly code: 'LOWER_INVALID_OPTION' = 'LOWER_INVALID_OPTION';
    }
    const lower = new LowerOptionError('idleGraceMs', -1, 'a finite number of milliseconds ≥ 0');
    const own = new PoolOptionError('size', 0, 'at least 1');
    const other = new Error('boom');

    const adopted = check.adopt(lower);

    expect(adopted).toBeInstanceOf(PoolOptionError);
    expect(adopted).toMatchObject({
      option: 'idleGraceMs',
      value: -1,
      expected: 'a finite number of milliseconds ≥ 0',
      code: 'POOL_INVALID_OPTION',
      cause: lower,
      message: lower.message,
    });
    expect(check.adopt(own)).toBe(own);
    expect(check.adopt(other)).toBe(other);
  });
});
