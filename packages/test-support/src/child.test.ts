import { afterEach, describe, expect, it } from 'vitest';
import { killAllChildren, startChild } from './child.ts';
import { HarnessOptionError, LineTimeoutError } from './errors.ts';
import { fixturesBeside } from './fixtures.ts';
import { until } from './net.ts';
import { processState } from './processes.ts';
import { runtimeCommand, runtimesUnderTest } from './runtimes.ts';

const fixture = fixturesBeside(import.meta.url);
afterEach(() => killAllChildren());

function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z';
}

describe('startChild', () => {
  for (const runtime of runtimesUnderTest()) {
    it(`runs a script on ${runtime}, collects stdout and stderr line by line, takes stdin, and reports a signalled exit`, async () => {
      const child = startChild(runtimeCommand(runtime, fixture('echo.mjs')), { stdin: 'pipe', env: { GREETING: 'hi' } });
      expect(await child.waitForLine(/^ready /, 20_000)).toBe(`ready ${runtime} ${child.pid} hi`);
      child.write('echo one');
      child.write('err two');
      await child.waitForLine(/^two$/);
      child.write('echo three');
      await child.waitForLine(/^three$/);
      expect(child.stdout).toEqual([`ready ${runtime} ${child.pid} hi`, 'one', 'three']);
      expect(child.stderr).toEqual(['two']);
      expect(child.lines).toEqual([`ready ${runtime} ${child.pid} hi`, 'one', 'two', 'three']);
      expect(child.exitStatus).toBeUndefined();
      expect(child.kill('SIGTERM')).toBe(true);
      const exit = await child.waitForExit();
      expect(exit).toMatchObject({ code: 0, signal: null, signalled: true });
      expect(child.stdout).toContain('got SIGTERM');
      expect(child.exitStatus).toEqual(exit);
      expect(child.kill('SIGTERM')).toBe(false);
    });
  }

  it('keeps the last line without a newline, and an exit that was not signalled', async () => {
    const child = startChild([process.execPath, fixture('echo.mjs')], { stdin: 'pipe' });
    await child.waitForLine(/^ready /);
    child.write('partial no newline');
    expect(await child.exited).toMatchObject({ code: 0, signal: null, signalled: false });
    expect(child.stdout.at(-1)).toBe('no newline');
  });

  it('waitForLine searches from a given line, and rejects at its timeout or when the child exits first', async () => {
    const child = startChild([process.execPath, fixture('echo.mjs')], { stdin: 'pipe' });
    await child.waitForLine(/^ready /);
    child.write('echo again');
    await child.waitForLine(/^again$/);
    const later = child.waitForLine(/^again$/, 5_000, child.lines.length);
    child.write('echo again');
    expect(await later).toBe('again');
    const timeout = await child.waitForLine(/never printed/, 100).catch((error: unknown) => error);
    expect(timeout).toBeInstanceOf(LineTimeoutError);
    expect((timeout as Error).message).toContain('ready node');
    child.write('exit 3');
    const exited = await child.waitForLine(/never printed/, 10_000).catch((error: unknown) => error);
    expect(exited).toBeInstanceOf(LineTimeoutError);
    expect((exited as Error).message).toContain('exited (code 3) first');
    expect((await child.waitForExit()).code).toBe(3);
  });

  it('waitForExit rejects with the output when the child outlives its timeout', async () => {
    const child = startChild([process.execPath, fixture('echo.mjs')], { stdin: 'pipe' });
    await child.waitForLine(/^ready /);
    await expect(child.waitForExit(100)).rejects.toThrow(/did not exit within 100 ms[\s\S]*ready node/);
  });

  it('reports a command that cannot be spawned as an exit with no code, and the reason on stderr', async () => {
    const child = startChild(['/no/such/binary-quiesce']);
    expect(await child.exited).toMatchObject({ code: null, signal: null });
    expect(child.stderr[0]).toMatch(/^spawn error: .*ENOENT/);
  });

  it('killAllChildren() kills every child and its descendants, and stop() is idempotent', async () => {
    const child = startChild([process.execPath, fixture('echo.mjs')], { stdin: 'pipe' });
    await child.waitForLine(/^ready /);
    child.write('spawn');
    const grandchild = Number((await child.waitForLine(/^grandchild \d+$/)).split(' ')[1]);
    expect(isAlive(grandchild)).toBe(true);
    await killAllChildren();
    expect(child.exitStatus).toMatchObject({ signal: 'SIGKILL' });
    expect(isAlive(child.pid)).toBe(false);
    // SIGKILLed, but the kernel may list it until its new parent has reaped it.
    await until(() => !isAlive(grandchild), 10_000, 'the grandchild to die');
    expect(await child.stop()).toEqual(child.exitStatus);
  });

  it('killAllChildren(extra) also kills pids it did not spawn, such as an orphaned grandchild', async () => {
    const child = startChild(runtimeCommand('node', fixture('echo.mjs')), { stdin: 'pipe' });
    await child.waitForLine(/^ready /);
    child.write('spawn');
    const orphan = Number((await child.waitForLine(/^grandchild \d+$/)).split(' ')[1]);
    await child.stop(); // SIGKILLs the child alone: the grandchild lives on, adopted by another parent
    expect(isAlive(orphan)).toBe(true);
    await killAllChildren([orphan]);
    await until(() => !isAlive(orphan), 10_000, 'the orphan to die');
  });

  it('collects what a Node child sends over the IPC channel that ipc: true opens, and opens none without it', async () => {
    const child = startChild(runtimeCommand('node', fixture('echo.mjs')), { stdin: 'pipe', ipc: true });
    await child.waitForLine(/^ready /);
    child.write('send one');
    child.write('send two');
    child.write('echo sent');
    await child.waitForLine(/^sent$/);
    await until(() => child.messages.length === 2, 10_000, 'two messages');
    expect(child.messages).toEqual(['one', 'two']);

    const plain = startChild(runtimeCommand('node', fixture('echo.mjs')), { stdin: 'pipe' });
    await plain.waitForLine(/^ready /);
    plain.write('send one');
    await plain.waitForLine(/^no ipc channel$/);
    expect(plain.messages).toEqual([]);
  });

  it('refuses a bad command or a write without a stdin pipe with a HarnessOptionError', async () => {
    expect(() => startChild([])).toThrow(HarnessOptionError);
    expect(() => startChild(['node', 1 as never])).toThrow(/Invalid command/);
    expect(() => startChild([process.execPath, '-e', ''], { ipc: 'yes' as never })).toThrow(/Invalid ipc: "yes"/);
    const child = startChild([process.execPath, fixture('echo.mjs')]);
    expect(() => child.write('echo x')).toThrow(HarnessOptionError);
    await child.stop();
  });
});
