import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HarnessOptionError } from './errors.ts';
import { fixturePath } from './fixtures.ts';
import { RUNTIMES, repoRoot, runtimeBinary, runtimeCommand } from './runtimes.ts';

describe('runtimes', () => {
  it('finds the monorepo root above this package', () => {
    expect(existsSync(join(repoRoot(), 'packages', 'conformance', 'package.json'))).toBe(true);
  });

  it('uses the running Node, and the Bun and Deno binaries installed in the monorepo', () => {
    expect(runtimeBinary('node')).toBe(process.execPath);
    expect(runtimeBinary('bun')).toBe(join(repoRoot(), 'node_modules/bun/bin/bun.exe'));
    expect(runtimeBinary('deno')).toBe(join(repoRoot(), 'node_modules/deno/deno'));
    for (const runtime of RUNTIMES) expect(existsSync(runtimeBinary(runtime))).toBe(true);
  });

  it('builds the command line for each runtime', () => {
    const script = fixturePath('plain-server.mjs');
    expect(runtimeCommand('node', script, ['--flag'])).toEqual({
      runtime: 'node',
      command: process.execPath,
      args: [script, '--flag'],
      env: {},
    });
    expect(runtimeCommand('bun', script).args).toEqual([script]);
    expect(runtimeCommand('deno', script, ['x'])).toMatchObject({
      args: ['run', '-A', '--quiet', script, 'x'],
      env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
  });

  it('rejects an unknown runtime or a bad script with a HarnessOptionError', () => {
    expect(() => runtimeCommand('python' as never, 'x.py')).toThrow(HarnessOptionError);
    expect(() => runtimeCommand('node', '')).toThrow(/Invalid script/);
    expect(() => runtimeCommand('node', 'x', 'y' as never)).toThrow(/Invalid args/);
    expect(() => fixturePath('no-such-fixture.mjs')).toThrow(HarnessOptionError);
  });
});
