import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HarnessOptionError, RuntimeMissingError } from './errors.ts';
import {
  NODE_UNDER_TEST_VARIABLE,
  RUNTIMES,
  RUNTIMES_UNDER_TEST_VARIABLE,
  nodeLineBinary,
  nodeUnderTest,
  repoRoot,
  runtimeBinary,
  runtimeCommand,
  runtimeVersion,
  runtimesUnderTest,
} from './runtimes.ts';

const saved = { node: process.env[NODE_UNDER_TEST_VARIABLE], runtimes: process.env[RUNTIMES_UNDER_TEST_VARIABLE] };
function setEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
afterEach(() => {
  setEnv(NODE_UNDER_TEST_VARIABLE, saved.node);
  setEnv(RUNTIMES_UNDER_TEST_VARIABLE, saved.runtimes);
});

/** The Node lines npm installed here (none off Linux x64). */
const installedLines = readdirSync(join(repoRoot(), 'node_modules'))
  .map((name) => /^node(\d+)$/.exec(name)?.[1])
  .filter((line): line is string => line !== undefined && existsSync(nodeLineBinary(Number(line))));

describe('runtimes', () => {
  it('finds the monorepo root above this package', () => {
    expect(existsSync(join(repoRoot(), 'packages', 'test-support', 'package.json'))).toBe(true);
  });

  it('runs Node children on the running Node unless QUIESCE_TEST_NODE says otherwise, and Bun and Deno from node_modules', () => {
    setEnv(NODE_UNDER_TEST_VARIABLE, undefined);
    expect(nodeUnderTest()).toEqual({ binary: process.execPath, version: process.versions.node, chosenBy: 'process.execPath' });
    expect(runtimeBinary('node')).toBe(process.execPath);
    expect(runtimeBinary('bun')).toBe(join(repoRoot(), 'node_modules/bun/bin/bun.exe'));
    expect(runtimeBinary('deno')).toBe(join(repoRoot(), 'node_modules/deno/deno'));
    for (const runtime of RUNTIMES) expect(runtimeVersion(runtime)).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each(installedLines.length > 0 ? installedLines : ['(none installed)'])(
    'QUIESCE_TEST_NODE=%s picks node_modules/node<line>/bin/node, whose version is of that line',
    (line) => {
      if (installedLines.length === 0) return; // off Linux x64 npm installs no line; the next test covers that
      for (const value of [line, `node${line}`]) {
        setEnv(NODE_UNDER_TEST_VARIABLE, value);
        const node = nodeUnderTest();
        expect(node.binary).toBe(join(repoRoot(), `node_modules/node${line}/bin/node`));
        expect(node.version.split('.')[0]).toBe(line);
        expect(node.chosenBy).toBe(`QUIESCE_TEST_NODE=${value}`);
        expect(runtimeCommand('node', 'x.mjs').command).toBe(node.binary);
      }
    },
  );

  it('QUIESCE_TEST_NODE takes a path, and refuses a line that is not installed or a value that is neither', () => {
    setEnv(NODE_UNDER_TEST_VARIABLE, process.execPath);
    expect(nodeUnderTest()).toMatchObject({ binary: process.execPath, version: process.versions.node });
    setEnv(NODE_UNDER_TEST_VARIABLE, '19');
    expect(() => nodeUnderTest()).toThrow(RuntimeMissingError);
    expect(() => nodeUnderTest()).toThrow(/node19 binary was not found at .*node_modules\/node19\/bin\/node\. .*Linux x64 only/);
    setEnv(NODE_UNDER_TEST_VARIABLE, 'latest');
    expect(() => nodeUnderTest()).toThrow(HarnessOptionError);
    expect(() => nodeUnderTest()).toThrow(/Invalid QUIESCE_TEST_NODE: "latest"/);
  });

  it('QUIESCE_TEST_RUNTIMES narrows the runtimes suites iterate over, in their usual order, and refuses unknown names', () => {
    setEnv(RUNTIMES_UNDER_TEST_VARIABLE, undefined);
    expect(runtimesUnderTest()).toEqual(['node', 'bun', 'deno']);
    setEnv(RUNTIMES_UNDER_TEST_VARIABLE, 'deno, node');
    expect(runtimesUnderTest()).toEqual(['node', 'deno']);
    setEnv(RUNTIMES_UNDER_TEST_VARIABLE, 'node,python');
    expect(() => runtimesUnderTest()).toThrow(/Invalid QUIESCE_TEST_RUNTIMES: "python"/);
    setEnv(RUNTIMES_UNDER_TEST_VARIABLE, ',');
    expect(() => runtimesUnderTest()).toThrow(HarnessOptionError);
  });

  it('builds the command line for each runtime, with Deno permissions as asked', () => {
    setEnv(NODE_UNDER_TEST_VARIABLE, undefined);
    const script = '/srv/server.mjs';
    expect(runtimeCommand('node', script, ['--flag'])).toEqual({ runtime: 'node', command: process.execPath, args: [script, '--flag'], env: {} });
    expect(runtimeCommand('bun', script).args).toEqual([script]);
    expect(runtimeCommand('deno', script, ['x'])).toMatchObject({
      args: ['run', '-A', '--quiet', script, 'x'],
      env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    expect(runtimeCommand('deno', script, [], { denoPermissions: ['--no-prompt', '--allow-net=127.0.0.1'] }).args).toEqual([
      'run',
      '--no-prompt',
      '--allow-net=127.0.0.1',
      '--quiet',
      script,
    ]);
  });

  it('rejects an unknown runtime or a bad script with a HarnessOptionError', () => {
    expect(() => runtimeCommand('python' as never, 'x.py')).toThrow(HarnessOptionError);
    expect(() => runtimeCommand('node', '')).toThrow(/Invalid script/);
    expect(() => runtimeCommand('node', 'x', 'y' as never)).toThrow(/Invalid args/);
    expect(() => nodeLineBinary(0)).toThrow(/Invalid line/);
  });
});
