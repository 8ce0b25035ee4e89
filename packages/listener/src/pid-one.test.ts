import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ListenerOptionError } from './errors.ts';
import { PID_ONE_WARNING, warnIfPidOne } from './pid-one.ts';
import { fixture, get, killAll, startChild } from './test-support/processes.ts';

afterEach(() => killAll());
afterAll(() => killAll());

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
    const sup = startChild([
      'unshare',
      '--pid',
      '--fork',
      '--mount-proc',
      '--kill-child',
      process.execPath,
      fixture('run-cli.mjs'),
      'run',
      '--listen',
      '127.0.0.1:0',
      '--',
      process.execPath,
      fixture('generation-server.mjs'),
    ]);
    const port = Number(/:(\d+) \(fd 3/.exec(await sup.waitForLine(/quiesce run: listening on /))?.[1]);
    await sup.waitForLine(/generation 1 \(pid \d+\) ready/);
    const warnings = sup.stderr.filter((line) => line.includes('is PID 1'));
    expect(warnings).toEqual([`quiesce run: ${PID_ONE_WARNING.replace(/^quiesce: /, '')}`]);
    expect((await get(port)).status).toBe(200);
  });

  it('a plain process that is PID 1 warns; one that is not stays silent', () => {
    const script = `import('${fixture('../../dist/index.js')}').then((m) => m.warnIfPidOne())`;
    const asPidOne = spawnSync('unshare', ['--pid', '--fork', '--kill-child', process.execPath, '-e', script], { encoding: 'utf8' });
    expect(asPidOne.stderr.trim()).toBe(PID_ONE_WARNING);
    const plain = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(plain.stderr).toBe('');
  });
});
