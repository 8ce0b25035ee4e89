import { describe, expect, it } from 'vitest';
import { ExampleConfigError, readConfig } from './config.ts';

describe('readConfig', () => {
  it('uses the documented defaults', () => {
    expect(readConfig({})).toEqual({ port: 3000, host: '127.0.0.1', lameDuckMs: 0, deadlineMs: 10_000 });
  });

  it('reads every variable', () => {
    expect(readConfig({ PORT: '8080', HOST: '::1', QUIESCE_LAME_DUCK_MS: '5000', QUIESCE_DEADLINE_MS: '30000' })).toEqual({
      port: 8080,
      host: '::1',
      lameDuckMs: 5_000,
      deadlineMs: 30_000,
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['HOST', 'a b'],
    ['QUIESCE_DEADLINE_MS', '0'],
    ['QUIESCE_DEADLINE_MS', 'ten'],
    ['QUIESCE_LAME_DUCK_MS', '-5'],
  ])('refuses %s=%s with an error naming the variable', (variable, value) => {
    const attempt = () => readConfig({ [variable]: value });
    expect(attempt).toThrow(ExampleConfigError);
    expect(attempt).toThrow(variable);
  });

  it('refuses a lame duck that leaves no time to drain', () => {
    expect(() => readConfig({ QUIESCE_LAME_DUCK_MS: '10000', QUIESCE_DEADLINE_MS: '10000' })).toThrow(/QUIESCE_LAME_DUCK_MS/);
  });
});
