import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@quiesce/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Child, fixturesBeside, get, killAllChildren, listeningSocket, runtimeBinary, runtimeCommand, startChild, until } from '@quiesce/test-support';
import { HotRestartError, ListenerOptionError } from './errors.ts';
import { hotRestart } from './hot-restart.ts';

const fixture = fixturesBeside(import.meta.url);

const restarted = new Set<number>();
afterEach(async () => {
  await killAllChildren(restarted);
  restarted.clear();
});
afterAll(() => killAllChildren());

const generationServer = fixture('generation-server.mjs');

async function serve(env: Record<string, string> = {}): Promise<{ child: Child; port: number }> {
  const child = startChild(runtimeCommand('node', generationServer), { env: { PORT: '0', ...env } });
  const line = await child.waitForLine(/^generation pid \d+ listening on /);
  return { child, port: Number(/:(\d+) \(/.exec(line)?.[1]) };
}

/** The pid named by the hot restart's "is ready" line number `index` (0-based). */
async function readyPid(child: Child, index: number): Promise<number> {
  await until(() => child.lines.filter((l) => /^hot restart: pid \d+ is ready/.test(l)).length > index, 20_000, `restart ${index + 1} ready`);
  const line = child.lines.filter((l) => /^hot restart: pid \d+ is ready/.test(l))[index]!;
  const pid = Number(/pid (\d+) is ready/.exec(line)?.[1]);
  restarted.add(pid);
  return pid;
}

describe('hot restart on SIGUSR2 (Node)', () => {
  it('re-executes with the socket as fd 3, waits for readiness, then the old process drains and exits 0', async () => {
    const { child, port } = await serve();
    expect((await get(port)).pid).toBe(child.pid);
    child.kill('SIGUSR2');
    const second = await readyPid(child, 0);
    expect(await child.exited).toMatchObject({ code: 0, signal: null });
    expect(child.lines).toContain(`generation pid ${child.pid} drained`);
    expect(child.lines).toContain(`generation pid ${second} listening on http://127.0.0.1:${port} (inherited)`);
    expect((await get(port)).pid).toBe(second);

    // And again, from the process that adopted the socket.
    process.kill(second, 'SIGUSR2');
    const third = await readyPid(child, 1);
    await until(() => child.lines.includes(`generation pid ${second} drained`), 20_000, 'the second process to drain');
    await until(async () => (await get(port)).pid === third, 20_000, 'the third process to serve alone');
  });

  it('rolls back when the new process crashes at start: the old one keeps serving and says why', async () => {
    const crashFile = join(tmpdir(), `quiesce-hot-crash-${process.pid}-${Date.now()}`);
    try {
      const { child, port } = await serve({ CRASH_FILE: crashFile });
      writeFileSync(crashFile, '');
      child.kill('SIGUSR2');
      const line = await child.waitForLine(/^hot restart rolled back: /);
      expect(line).toMatch(new RegExp(`^hot restart rolled back: pid \\d+ exited with code 1 before it was ready; pid ${child.pid} keeps serving$`));
      await child.waitForLine(/^hot restart \{"outcome":"rolled-back"/);
      expect((await get(port)).pid).toBe(child.pid);
      expect(child.process.exitCode).toBe(null);
    } finally {
      rmSync(crashFile, { force: true });
    }
  });

  it('rolls back when the new process is not ready in time, and stops it', async () => {
    const neverReady = join(tmpdir(), `quiesce-hot-never-${process.pid}-${Date.now()}`);
    try {
      const { child, port } = await serve({ NEVER_READY_FILE: neverReady, READY_TIMEOUT_MS: '1500' });
      writeFileSync(neverReady, '');
      child.kill('SIGUSR2');
      const line = await child.waitForLine(/^hot restart rolled back: /);
      expect(line).toMatch(/pid (\d+) not ready within 1500 ms/);
      const failed = Number(/pid (\d+) not ready/.exec(line)?.[1]);
      restarted.add(failed);
      // The failed process got SIGTERM and drains; then only the old one answers.
      await until(() => child.lines.includes(`generation pid ${failed} drained`), 20_000, 'the failed process to stop');
      expect((await get(port)).pid).toBe(child.pid);
    } finally {
      rmSync(neverReady, { force: true });
    }
  });

  it('asks the quiesce run supervisor to roll instead when it runs under one', async () => {
    const sup = startChild(runtimeCommand('node', fixture('run-cli.mjs'), ['run', '--listen', '127.0.0.1:0', '--', runtimeBinary('node'), generationServer]));
    const first = Number(/\(pid (\d+)\) ready/.exec(await sup.waitForLine(/generation 1 \(pid \d+\) ready/))?.[1]);
    process.kill(first, 'SIGUSR2');
    await sup.waitForLine(/generation 2 \(pid \d+\) ready in \d+ ms; stopping generation 1/);
    expect(sup.lines.join('\n')).toContain(`hot restart: running under quiesce run (pid ${sup.pid}); asked it to roll instead`);
  });
});

describe('hotRestart returns; the caller exits', () => {
  it('resolves restarted with the exit code stop resolved to, and leaves this process running', async () => {
    const holder = await listeningSocket();
    let stopped = 0;
    const result = await hotRestart({
      servers: holder.server,
      stop: () => {
        stopped++;
        holder.server.close();
        return { exitCode: 7 };
      },
      command: [runtimeBinary('node'), generationServer],
      env: { ...process.env, PORT: '0' },
      settleMs: 0,
      log: false,
    });
    if (result.pid) restarted.add(result.pid);
    expect(result).toEqual({ outcome: 'restarted', pid: expect.any(Number), reason: undefined, exitCode: 7 });
    expect(stopped).toBe(1);
    // This process is still here (the test runs on), and the successor serves the socket.
    expect((await get(holder.port)).pid).toBe(result.pid);
  });

  it('times the readiness wait on the injected clock: a successor that never gets ready is stopped', async () => {
    const holder = await listeningSocket();
    const neverReady = join(tmpdir(), `quiesce-hot-clock-${process.pid}-${Date.now()}`);
    writeFileSync(neverReady, '');
    const clock = new ManualClock();
    try {
      let stopped = false;
      const pending = hotRestart({
        servers: holder.server,
        stop: () => {
          stopped = true;
        },
        command: [runtimeBinary('node'), generationServer],
        env: { ...process.env, PORT: '0', NEVER_READY_FILE: neverReady },
        readyTimeoutMs: 600_000,
        clock,
        log: false,
      });
      await until(() => clock.pendingTimers === 1, 10_000, 'the readiness timer');
      await clock.advance(600_000);
      const result = await pending;
      if (result.pid) restarted.add(result.pid);
      expect(result).toEqual({ outcome: 'rolled-back', pid: expect.any(Number), reason: 'not ready within 600000 ms', exitCode: undefined });
      expect(stopped).toBe(false);
      expect(holder.server.listening).toBe(true);
    } finally {
      holder.server.close();
      rmSync(neverReady, { force: true });
    }
  });
});

describe('hotRestart options and runtime support', () => {
  it('refuses a server that is not listening', async () => {
    await expect(hotRestart({ servers: createServer(), stop: () => {}, log: false })).rejects.toBeInstanceOf(HotRestartError);
  });

  const server = createServer();
  it.each([
    ['an empty servers list', { servers: [], stop: () => {} }, 'servers'],
    ['a servers object that is no server', { servers: {}, stop: () => {} }, 'servers'],
    ['a stop that is no function', { servers: server, stop: 'shutdown' }, 'stop'],
    ['more names than servers', { servers: server, stop: () => {}, names: ['a', 'b'] }, 'names'],
    ['a name with ":"', { servers: server, stop: () => {}, names: ['a:b'] }, 'names'],
    ['readyTimeoutMs 0', { servers: server, stop: () => {}, readyTimeoutMs: 0 }, 'readyTimeoutMs'],
    ['settleMs -1', { servers: server, stop: () => {}, settleMs: -1 }, 'settleMs'],
    ['an empty command', { servers: server, stop: () => {}, command: [] }, 'command'],
    ['an env string', { servers: server, stop: () => {}, env: 'x' }, 'env'],
    ['exit 1', { servers: server, stop: () => {}, exit: 1 }, 'exit'],
    ['the removed exit option, even false', { servers: server, stop: () => {}, exit: false }, 'exit'],
    ['a clock without setTimeout', { servers: server, stop: () => {}, clock: { now: () => 0 } }, 'clock'],
    ['log "stderr"', { servers: server, stop: () => {}, log: 'stderr' }, 'log'],
  ])('refuses %s, naming the option', async (_label, options, option) => {
    const error = await hotRestart(options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ListenerOptionError);
    expect((error as ListenerOptionError).option).toBe(option);
  });
});
