import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fixturesBeside, get, killAllChildren, runtimeBinary, runtimeCommand, startChild } from '@quiesce/test-support';
import { ListenerOptionError } from './errors.ts';
import { PID_ONE_WARNING, warnIfPidOne } from './pid-one.ts';

const fixture = fixturesBeside(import.meta.url);
afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

/** `unshare --pid --fork` makes its command PID 1 of a new pid namespace (root, or user namespaces). */
const canUnshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'true'], { stdio: 'ignore' }).status === 0;

describe('warnIfPidOne', () => {
  it('warns once per process when the pid is 1, naming --init, tini and shareProcessNamespace', () => {
    const lines: string[] = [];
    expect(warnIfPidOne({ pid: 4242, log: (line) => lines.push(line) })).toBe(false);
    expect(lines).toEqual([]);
    expect(warnIfPidOne({ pid: 1, log: (line) => lines.push(line) })).toBe(true);
    expect(warnIfPidOne({ pid: 1, log: (line) => lines.push(line) })).toBe(false);
    expect(lines).toEqual([PID_ONE_WARNING]);
    expect(PID_ONE_WARNING).toMatch(/never reaped/);
    expect(PID_ONE_WARNING).toMatch(/no default signal actions/);
    expect(PID_ONE_WARNING).toMatch(/docker run --init.*tini.*shareProcessNamespace/);
  });

  it.each([
    [{ pid: 0 }, 'pid'],
    [{ pid: 1.5 }, 'pid'],
    [{ log: 'stderr' }, 'log'],
  ])('refuses %j naming the option', (options, option) => {
    const error = (() => {
      try {
        warnIfPidOne(options as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ListenerOptionError);
    expect((error as ListenerOptionError).option).toBe(option);
  });
});

const realPidOne = canUnshare ? describe : describe.skip;
realPidOne('as the real PID 1 of a pid namespace (unshare --pid --fork)', () => {
  it('quiesce run warns once that orphans are not reaped and signals have no default action, then serves', async () => {
    const run = runtimeCommand('node', fixture('run-cli.mjs'), ['run', '--listen', '127.0.0.1:0', '--', runtimeBinary('node'), fixture('generation-server.mjs')]);
    const sup = startChild(['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', run.command, ...run.args], { env: run.env });
    const port = Number(/:(\d+) \(fd 3/.exec(await sup.waitForLine(/quiesce run: listening on /))?.[1]);
    await sup.waitForLine(/generation 1 \(pid \d+\) ready/);
    const warnings = sup.stderr.filter((line) => line.includes('is PID 1'));
    expect(warnings).toEqual([`quiesce run: ${PID_ONE_WARNING.replace(/^quiesce: /, '')}`]);
    expect((await get(port)).status).toBe(200);
  });

  it('a plain process that is PID 1 warns; one that is not stays silent', async () => {
    const script = `import('${fileURLToPath(new URL('../dist/index.js', import.meta.url))}').then((m) => m.warnIfPidOne())`;
    const asPidOne = startChild(['unshare', '--pid', '--fork', '--kill-child', runtimeBinary('node'), '-e', script]);
    await asPidOne.waitForExit();
    expect(asPidOne.stderr.join('\n').trim()).toBe(PID_ONE_WARNING);
    const plain = startChild([runtimeBinary('node'), '-e', script]);
    await plain.waitForExit();
    expect(plain.stderr).toEqual([]);
  });
});
