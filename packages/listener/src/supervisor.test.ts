import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { ManualClock } from '@quiesce/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Child, childPids, fixturesBeside, get, killAllChildren, LISTEN_PID_WRAPPER, listeningSocket, processState, sleep, startChild, until } from '@quiesce/test-support';
import { ListenerOptionError } from './errors.ts';
import { runSupervisor } from './supervisor.ts';

const fixture = fixturesBeside(import.meta.url);

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

const generationServer = fixture('generation-server.mjs');

/** Starts `quiesce run` (the CLI, in its own process) on a free port with the generation fixture. */
async function supervise(env: Record<string, string> = {}, flags: string[] = []): Promise<{ sup: Child; port: number }> {
  const sup = startChild([process.execPath, fixture('run-cli.mjs'), 'run', '--listen', '127.0.0.1:0', ...flags, '--', process.execPath, generationServer], { env });
  const line = await sup.waitForLine(/quiesce run: listening on http:\/\/127\.0\.0\.1:\d+/);
  const port = Number(/:(\d+) \(fd 3/.exec(line)?.[1]);
  await sup.waitForLine(/generation 1 \(pid \d+\) ready/);
  return { sup, port };
}

const readyLines = (sup: Child): string[] => sup.lines.filter((line) => / ready in \d+ ms/.test(line));
const pidOf = (line: string): number => Number(/\(pid (\d+)\)/.exec(line)?.[1]);

/** No child of `pid` is a zombie (state Z). */
function zombies(pid: number): number[] {
  return childPids(pid).filter((child) => processState(child) === 'Z');
}

describe('quiesce run: rolling generations on held sockets', () => {
  it('serves from generation 1, rolls on SIGHUP (new one ready, then the old one drains and exits), and exits with the code on SIGTERM', async () => {
    const { sup, port } = await supervise();
    const first = pidOf(readyLines(sup)[0]!);
    expect((await get(port)).pid).toBe(first);
    expect(first).not.toBe(sup.pid);

    sup.process.kill('SIGHUP');
    await until(() => readyLines(sup).length === 2, 20_000, 'generation 2 ready');
    const second = pidOf(readyLines(sup)[1]!);
    await sup.waitForLine(new RegExp(`generation 1 \\(pid ${first}\\) exited with code 0`));
    expect((await get(port)).pid).toBe(second);

    sup.process.kill('SIGUSR2');
    await until(() => readyLines(sup).length === 3, 20_000, 'generation 3 ready');
    await sup.waitForLine(/generation 2 \(pid \d+\) exited with code 0/);
    expect(zombies(sup.pid)).toEqual([]);
    expect(childPids(sup.pid)).toEqual([pidOf(readyLines(sup)[2]!)]);

    sup.process.kill('SIGTERM');
    expect(await sup.exited).toMatchObject({ code: 0, signal: null });
    expect(sup.lines).toContain('quiesce run: exiting with code 0');
  });

  it('asks a generation that listens on its control channel to stop for a restart (STOP=restart) instead of SIGTERM, and forwards SIGTERM as a shutdown', async () => {
    const { sup, port } = await supervise({ STOP_REQUESTS: '1' });
    const first = pidOf(readyLines(sup)[0]!);
    sup.process.kill('SIGHUP');
    await until(() => readyLines(sup).length === 2, 20_000, 'generation 2 ready');
    await sup.waitForLine(new RegExp(`asked generation 1 \\(pid ${first}\\) to stop for a restart`));
    await sup.waitForLine(new RegExp(`generation pid ${first} stop request: restart`));
    await sup.waitForLine(new RegExp(`generation 1 \\(pid ${first}\\) exited with code 0`));
    const second = pidOf(readyLines(sup)[1]!);
    expect((await get(port)).pid).toBe(second);
    // Stopping the service is no restart: the generation gets the signal, not a STOP= line.
    sup.process.kill('SIGTERM');
    expect(await sup.exited).toMatchObject({ code: 0 });
    expect(sup.lines.some((line) => line.includes(`generation pid ${second} stop request`))).toBe(false);
    expect(sup.lines.filter((line) => line.includes('asked generation'))).toHaveLength(1);
  });

  it('SIGTERM while the old generation still drains after a roll does not signal it a second time (which would stop it at once, exit 1)', async () => {
    // --settle 0: generation 1 gets its SIGTERM as soon as generation 2 is ready.
    const { sup, port } = await supervise({}, ['--settle', '0']);
    const first = pidOf(readyLines(sup)[0]!);
    // An idle keep-alive connection to generation 1 keeps its drain going for 250 ms after SIGTERM.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await new Promise<void>((resolve, reject) => {
      request({ port, host: '127.0.0.1', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject).end();
    });
    sup.process.kill('SIGHUP');
    await sup.waitForLine(/generation 2 \(pid \d+\) ready/, 20_000);
    sup.process.kill('SIGTERM'); // generation 1 is draining its idle connection now
    await sup.exited;
    agent.destroy();
    expect(sup.lines).toContainEqual(expect.stringMatching(new RegExp(`generation 1 \\(pid ${first}\\) exited with code 0`)));
  });

  it('keeps the old generation serving when the new one crashes at start (rollback)', async () => {
    const crashFile = join(tmpdir(), `quiesce-crash-${process.pid}-${Date.now()}`);
    try {
      const { sup, port } = await supervise({ CRASH_FILE: crashFile });
      const first = pidOf(readyLines(sup)[0]!);
      writeFileSync(crashFile, '');
      sup.process.kill('SIGHUP');
      const failed = await sup.waitForLine(/generation 2 \(pid \d+\) failed: exited with code 1 before it was ready; rolled back, generation 1/);
      expect(failed).toContain(`generation 1 (pid ${first}) keeps serving`);
      expect((await get(port)).pid).toBe(first);
      rmSync(crashFile);
      sup.process.kill('SIGHUP');
      await until(() => readyLines(sup).length === 2, 20_000, 'generation 3 ready');
      await sup.waitForLine(new RegExp(`generation 1 \\(pid ${first}\\) exited with code 0`));
      expect((await get(port)).pid).toBe(pidOf(readyLines(sup)[1]!));
      expect(zombies(sup.pid)).toEqual([]);
    } finally {
      rmSync(crashFile, { force: true });
    }
  });

  it('stops a new generation that is not ready in time and keeps the old one', async () => {
    const neverReady = join(tmpdir(), `quiesce-never-ready-${process.pid}-${Date.now()}`);
    try {
      const { sup, port } = await supervise({ NEVER_READY_FILE: neverReady }, ['--ready-timeout', '1500']);
      const first = pidOf(readyLines(sup)[0]!);
      writeFileSync(neverReady, '');
      sup.process.kill('SIGHUP');
      await sup.waitForLine(/generation 2 \(pid \d+\) failed: not ready within 1500 ms; rolled back/);
      await sup.waitForLine(/generation 2 \(pid \d+\) exited with code 0/);
      expect((await get(port)).pid).toBe(first);
    } finally {
      rmSync(neverReady, { force: true });
    }
  });

  it('restarts a generation that crashes while serving, and the port keeps accepting meanwhile', async () => {
    const { sup, port } = await supervise({ CRASH_AFTER_MS: '1500' });
    await sup.waitForLine(/generation 1 \(pid \d+\) exited on its own with code 3; restarting in 100 ms/, 20_000);
    await sup.waitForLine(/generation 2 \(pid \d+\) ready/, 20_000);
    await sup.waitForLine(/generation 2 \(pid \d+\) exited on its own with code 3; restarting in 200 ms/, 20_000);
    // A request sent while no generation runs waits in the accept queue instead of being refused.
    const response = await get(port);
    expect(response.status).toBe(200);
    expect(zombies(sup.pid)).toEqual([]);
  });

  it('passes SIGTERM on and SIGKILLs a generation that outlives --stop-timeout; exits 128 + 9', async () => {
    const { sup } = await supervise({ IGNORE_SIGTERM: '1' }, ['--stop-timeout', '500']);
    sup.process.kill('SIGTERM');
    await sup.waitForLine(/still runs 500 ms after SIGTERM: SIGKILL/);
    expect(await sup.exited).toMatchObject({ code: 137, signal: null });
  });

  it('gives up at once when the command does not exist (exit 127)', async () => {
    const sup = startChild([process.execPath, fixture('run-cli.mjs'), 'run', '--listen', '127.0.0.1:0', '--', 'no-such-command-quiesce']);
    expect((await sup.exited).code).toBe(127);
    expect(sup.lines.join('\n')).toMatch(/failed: exited with code 127 before it was ready \(command not found or not executable\); giving up/);
  });

  it('passes on sockets it inherited itself (systemd socket activation) without --listen', async () => {
    const socket = await listeningSocket();
    try {
      const sup = startChild([...LISTEN_PID_WRAPPER, process.execPath, fixture('run-cli.mjs'), 'run', '--', process.execPath, generationServer], {
        env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'http' },
        extraStdio: [socket.fd],
      });
      expect(await sup.waitForLine(/quiesce run: listening on /)).toBe(`quiesce run: listening on http://127.0.0.1:${socket.port} (fd 3, name http, inherited)`);
      await sup.waitForLine(/generation 1 \(pid \d+\) ready/);
      // From here on only the generation may accept: the supervisor never listens on what it inherited.
      socket.server.close();
      const first = pidOf(readyLines(sup)[0]!);
      expect((await get(socket.port)).pid).toBe(first);
      sup.process.kill('SIGHUP');
      await sup.waitForLine(/generation 1 \(pid \d+\) exited with code 0/);
      expect((await get(socket.port)).pid).toBe(pidOf(readyLines(sup)[1]!));
      sup.process.kill('SIGTERM');
      expect((await sup.exited).code).toBe(0);
    } finally {
      if (socket.server.listening) socket.server.close();
    }
  });

  it('refuses a taken port, naming the holder', async () => {
    const holder = await listeningSocket();
    try {
      const sup = startChild([process.execPath, fixture('run-cli.mjs'), 'run', '--listen', `127.0.0.1:${holder.port}`, '--', process.execPath, generationServer]);
      expect((await sup.exited).code).toBe(1);
      expect(sup.stderr.join('\n')).toMatch(new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${holder.port}: address already in use\\. Held by pid ${process.pid} `));
    } finally {
      holder.server.close();
    }
  });
});

describe('runSupervisor options', () => {
  it.each([
    [{ listen: [], command: ['node'], inherit: false }, 'listen'],
    [{ listen: [':0'], command: ['node'], inherit: 'no' }, 'inherit'],
    [{ listen: 'x:1', command: ['node'] }, 'listen'],
    [{ listen: ['nohost'], command: ['node'] }, 'listen[0]'],
    [{ listen: ['127.0.0.1:70000'], command: ['node'] }, 'listen[0]'],
    [{ listen: ['::1:80'], command: ['node'] }, 'listen[0]'],
    [{ listen: [{ host: '127.0.0.1', port: -1 }], command: ['node'] }, 'listen[0].port'],
    [{ listen: [{ host: '', port: 1 }], command: ['node'] }, 'listen[0].host'],
    [{ listen: [{ host: '127.0.0.1', port: 1, name: 'a:b' }], command: ['node'] }, 'listen[0].name'],
    [{ listen: ['a=127.0.0.1:1', 'a=127.0.0.1:2'], command: ['node'] }, 'listen'],
    [{ listen: [':0'], command: [] }, 'command'],
    [{ listen: [':0'], command: [''] }, 'command[0]'],
    [{ listen: [':0'], command: ['node', 1] }, 'command'],
    [{ listen: [':0'], command: ['node'], readyTimeoutMs: 0 }, 'readyTimeoutMs'],
    [{ listen: [':0'], command: ['node'], stopTimeoutMs: -5 }, 'stopTimeoutMs'],
    [{ listen: [':0'], command: ['node'], settleMs: -1 }, 'settleMs'],
    [{ listen: [':0'], command: ['node'], restartDelayMs: Number.NaN }, 'restartDelayMs'],
    [{ listen: [':0'], command: ['node'], restartDelayMs: 500, maxRestartDelayMs: 100 }, 'maxRestartDelayMs'],
    [{ listen: [':0'], command: ['node'], backlog: 0 }, 'backlog'],
    [{ listen: [':0'], command: ['node'], env: null }, 'env'],
    [{ listen: [':0'], command: ['node'], cwd: '' }, 'cwd'],
    [{ listen: [':0'], command: ['node'], signals: 'yes' }, 'signals'],
    [{ listen: [':0'], command: ['node'], log: 'stderr' }, 'log'],
    [{ listen: [':0'], command: ['node'], clock: Date }, 'clock'],
  ])('refuses %j naming the option, before binding anything', async (options, option) => {
    const error = await runSupervisor(options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ListenerOptionError);
    expect((error as ListenerOptionError).option).toBe(option);
  });

  it('can be driven in-process without signals: roll() and stop()', async () => {
    const lines: string[] = [];
    const supervisor = await runSupervisor({
      listen: [{ host: '127.0.0.1', port: 0, name: 'web' }],
      command: [process.execPath, generationServer],
      signals: false,
      log: (line) => lines.push(line),
    });
    try {
      expect(supervisor.sockets).toEqual([
        { name: 'web', fd: 3, address: '127.0.0.1', port: expect.any(Number), family: 'IPv4', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
      ]);
      await until(() => supervisor.current !== undefined, 20_000, 'generation 1 ready');
      const first = supervisor.current!;
      expect(first).toMatchObject({ generation: 1, state: 'serving' });
      const port = supervisor.sockets[0]!.port;
      expect((await get(port)).pid).toBe(first.pid);
      const rolled = await supervisor.roll();
      expect(rolled).toMatchObject({ outcome: 'rolled', generation: 2 });
      // The old generation accepts until it has handled its SIGTERM; then only the new one is left.
      await until(() => supervisor.generations.length === 1, 20_000, 'generation 1 to exit');
      expect((await get(port)).pid).toBe(rolled.pid);
      expect(await supervisor.stop()).toBe(0);
      expect(supervisor.generations).toEqual([]);
      expect(lines[0]).toMatch(/^quiesce run: listening on http:\/\/127\.0\.0\.1:\d+ \(fd 3, name web\)$/);
    } finally {
      await supervisor.stop('SIGINT');
    }
    // The port is free again once the supervisor is done.
    await sleep(50);
    const again = await listeningSocket(supervisor.sockets[0]!.port);
    again.server.close();
  });

  it('times readiness on the injected clock: a roll to a generation that never gets ready is rolled back when the clock says so', async () => {
    const neverReady = join(tmpdir(), `quiesce-sup-clock-${process.pid}-${Date.now()}`);
    const clock = new ManualClock();
    const supervisor = await runSupervisor({
      listen: ['127.0.0.1:0'],
      command: [process.execPath, generationServer],
      env: { ...process.env, NEVER_READY_FILE: neverReady },
      readyTimeoutMs: 600_000,
      settleMs: 0,
      signals: false,
      log: false,
      clock,
    });
    try {
      await until(() => supervisor.current !== undefined, 20_000, 'generation 1 ready');
      const first = supervisor.current!;
      writeFileSync(neverReady, '');
      const rolling = supervisor.roll();
      await until(() => clock.pendingTimers === 1 && supervisor.generations.length === 2, 10_000, 'generation 2 and its readiness timer');
      await clock.advance(600_000);
      expect(await rolling).toEqual({ outcome: 'rolled-back', generation: 2, pid: expect.any(Number), reason: 'not ready within 600000 ms' });
      expect(supervisor.current).toEqual(first);
      expect((await get(supervisor.sockets[0]!.port)).pid).toBe(first.pid);
    } finally {
      rmSync(neverReady, { force: true });
      const code = supervisor.stop();
      // Generations that outlive their SIGTERM are killed when the clock says so.
      await clock.advance(30_000);
      await code;
    }
  });
});
