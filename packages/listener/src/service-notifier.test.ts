import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@quiesce/core/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type Child,
  childPids,
  fixturesBeside,
  get,
  isUnderTest,
  killAllChildren,
  type Runtime,
  type RuntimeCommand,
  runtimeBinary,
  runtimeCommand,
  startChild,
  until,
} from '@quiesce/test-support';
import { ListenerOptionError } from './errors.ts';
import { createServiceNotifier } from './service-notifier.ts';

const fixture = fixturesBeside(import.meta.url);
afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

/** One datagram as the receiver saw it: the sender's pid (SCM_CREDENTIALS), its lines, CLOCK_MONOTONIC µs at receipt. */
interface Datagram {
  readonly pid: number;
  readonly lines: string[];
  readonly received: number;
}

/** A real AF_UNIX datagram socket standing in for NOTIFY_SOCKET (python3 binds it: Node cannot). */
interface NotifyReceiver {
  readonly path: string;
  readonly child: Child;
  /** Every datagram so far, without systemd-notify's BARRIER=1 round trips. */
  messages(): Datagram[];
  /** Waits until `count` messages arrived. */
  waitFor(count: number, what?: string): Promise<Datagram[]>;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function notifyReceiver(): Promise<NotifyReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-notify-'));
  dirs.push(dir);
  const path = join(dir, 'notify.sock');
  const child = startChild(['python3', fixture('notify-socket.py'), path]);
  await child.waitForLine(/^bound$/);
  const messages = (): Datagram[] =>
    child.stdout
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Datagram)
      .filter((m) => !(m.lines.length === 1 && m.lines[0] === 'BARRIER=1'));
  return {
    path,
    child,
    messages,
    async waitFor(count, what = `${count} message(s)`) {
      await until(() => messages().length >= count, 20_000, what);
      return messages();
    },
  };
}

const hasPython = spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { stdio: 'ignore' }).status === 0;
const hasSystemdNotify = spawnSync('systemd-notify', ['--version'], { stdio: 'ignore' }).status === 0;
const root = process.getuid?.() === 0;
const sdNotify = hasPython && hasSystemdNotify ? describe : describe.skip;

/** Where the notify-client fixture runs: a runtime, or Deno with its datagram socket (`--unstable-net`). */
type ClientRuntime = Runtime | 'deno --unstable-net';

/** The command that runs the notify-client fixture on a runtime; Deno with or without its datagram socket. */
function clientCommand(runtime: ClientRuntime): RuntimeCommand {
  const script = fixture('notify-client.mjs');
  if (runtime === 'deno --unstable-net') return runtimeCommand('deno', script, [], { denoPermissions: ['-A', '--unstable-net'] });
  return runtimeCommand(runtime, script);
}

const runtimes: readonly { runtime: ClientRuntime; on: Runtime; transport: 'systemd-notify' | 'datagram' }[] = [
  { runtime: 'node', on: 'node', transport: 'systemd-notify' },
  { runtime: 'bun', on: 'bun', transport: 'systemd-notify' },
  { runtime: 'deno', on: 'deno', transport: 'systemd-notify' },
  { runtime: 'deno --unstable-net', on: 'deno', transport: 'datagram' },
];

sdNotify('sd_notify on a real AF_UNIX datagram socket (python3 receiver, systemd-notify installed)', () => {
  describe.each(runtimes)('$runtime', ({ runtime, on, transport }) => {
    // Runs where QUIESCE_TEST_RUNTIMES includes the runtime (all of them unless it narrows them).
    const run = it.skipIf(!isUnderTest(on));

    run(`sends READY=1, RELOADING=1 with MONOTONIC_USEC, STOPPING=1 with EXTEND_TIMEOUT_USEC, the phases' STATUS, in order, through ${transport}`, async () => {
      const receiver = await notifyReceiver();
      const before = process.hrtime.bigint() / 1_000n;
      const client = startChild(clientCommand(runtime), { env: { NOTIFY_SOCKET: receiver.path, SCRIPT: 'sequence' } });
      const started = JSON.parse((await client.waitForLine(/^started /)).slice('started '.length));
      expect(started.targets).toEqual({ systemd: transport, pm2: false });
      await client.waitForLine(/^done$/);
      expect((await client.exited).code).toBe(0);
      const messages = await receiver.waitFor(5);
      expect(messages.map((m) => m.lines.filter((line) => !line.startsWith('MONOTONIC_USEC=')))).toEqual([
        ['READY=1', 'STATUS=Serving on test'],
        ['RELOADING=1', 'STATUS=Reloading'],
        ['READY=1', 'STATUS=Serving'],
        ['STOPPING=1', 'STATUS=Shutting down (SIGTERM)', 'EXTEND_TIMEOUT_USEC=11000000'],
        // The phase's status and the last one were both waiting: they left as one message, the later status winning.
        ['STATUS=Stopped: clean', 'EXTEND_TIMEOUT_USEC=9000000'],
      ]);
      // systemd takes a RELOADING=1 stamped before its reload request for a stale one: never below CLOCK_MONOTONIC.
      const stamp = BigInt(messages[1]!.lines.find((line) => line.startsWith('MONOTONIC_USEC='))!.slice('MONOTONIC_USEC='.length));
      expect(stamp).toBeGreaterThanOrEqual(before);
      if (runtime === 'node') expect(stamp).toBeLessThanOrEqual(BigInt(messages[1]!.received));
      // The sender systemd sees: this process itself (a datagram socket; systemd-notify as root names
      // its parent), so NotifyAccess=main accepts it. Unprivileged, systemd-notify sends as itself.
      if (transport === 'datagram' || root) expect(new Set(messages.map((m) => m.pid))).toEqual(new Set([client.pid]));
    });

    run('pings WATCHDOG=1 while WATCHDOG_USEC is set and WATCHDOG_PID is this process, until stopped', async () => {
      const receiver = await notifyReceiver();
      const client = startChild(clientCommand(runtime), { env: { NOTIFY_SOCKET: receiver.path, SCRIPT: 'watchdog', WATCHDOG_USEC: '200000' } });
      const started = JSON.parse((await client.waitForLine(/^started /)).slice('started '.length));
      expect(started.targets.watchdogMs).toBe(100);
      await until(() => receiver.messages().filter((m) => m.lines[0] === 'WATCHDOG=1').length >= 2, 20_000, 'two watchdog pings');
      client.kill('SIGTERM');
      await client.waitForLine(/^done$/);
      // The last message is sent before `done`, but the receiver may print it a moment later.
      await until(() => receiver.messages().at(-1)?.lines[0] === 'STATUS=Stopped', 20_000, 'the last status');
      expect(receiver.messages()[0]!.lines).toEqual(['READY=1', 'STATUS=Serving']);
    });
  });

  it('after handOver(pid) sends MAINPID= and nothing more: the old process shutting down is not the service stopping', async () => {
    const receiver = await notifyReceiver();
    const client = startChild(clientCommand('node'), { env: { NOTIFY_SOCKET: receiver.path, SCRIPT: 'handover', HANDOVER_PID: String(process.pid) } });
    await client.waitForLine(/^done$/);
    const messages = await receiver.waitFor(2);
    expect(messages.map((m) => m.lines)).toEqual([
      ['READY=1', 'STATUS=Serving'],
      [`MAINPID=${process.pid}`, `STATUS=Handed over to pid ${process.pid}`],
    ]);
  });

  it('times the watchdog on the injected clock: WATCHDOG_USEC / 2, and not at all for another WATCHDOG_PID', async () => {
    const receiver = await notifyReceiver();
    const clock = new ManualClock();
    const notifier = createServiceNotifier({ env: { ...process.env, NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '30000000' }, clock });
    expect(notifier.targets.watchdogMs).toBe(15_000);
    await clock.advance(14_999);
    await notifier.flush();
    expect(receiver.messages()).toEqual([]);
    await clock.advance(1);
    await notifier.flush();
    await receiver.waitFor(1);
    await clock.advance(15_000);
    await notifier.flush();
    expect((await receiver.waitFor(2)).map((m) => m.lines)).toEqual([['WATCHDOG=1'], ['WATCHDOG=1']]);
    await notifier.stopped();
    expect(clock.pendingTimers).toBe(0);

    const other = createServiceNotifier({ env: { ...process.env, NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, clock });
    expect(other.targets.watchdogMs).toBe(undefined);
    expect(clock.pendingTimers).toBe(0);
    await other.stopped();
  });

  it('keeps the order of messages sent faster than systemd-notify runs; a burst of statuses leaves as one, the latest winning', async () => {
    const receiver = await notifyReceiver();
    const notifier = createServiceNotifier({ env: { ...process.env, NOTIFY_SOCKET: receiver.path } });
    notifier.ready();
    for (let i = 0; i < 6; i++) notifier.status(`step ${i}`);
    notifier.stopping({ status: 'stopping' });
    notifier.status('step 6');
    notifier.status('step 7');
    await notifier.stopped();
    expect((await receiver.waitFor(4)).map((m) => m.lines)).toEqual([
      ['READY=1', 'STATUS=Serving'],
      ['STATUS=step 5'],
      ['STOPPING=1', 'STATUS=stopping'],
      ['STATUS=step 7'],
    ]);
  });
});

sdNotify('quiesce run as a Type=notify-reload service (python3 receiver, systemd-notify installed)', () => {
  it('sends READY=1 for generation 1; RELOADING=1 with MONOTONIC_USEC then READY=1 per SIGHUP, a failed roll saying the old one serves; STOPPING=1 on SIGTERM; all from the supervisor', async () => {
    const receiver = await notifyReceiver();
    const crashFile = join(dirs[dirs.length - 1]!, 'crash');
    const sup = startChild(
      runtimeCommand('node', fixture('run-cli.mjs'), [
        'run',
        '--listen',
        '127.0.0.1:0',
        '--stop-timeout',
        '7000',
        '--',
        runtimeBinary('node'),
        fixture('generation-server.mjs'),
      ]),
      { env: { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '60000000', CRASH_FILE: crashFile } },
    );
    const port = Number(/:(\d+) \(fd 3/.exec(await sup.waitForLine(/quiesce run: listening on /))?.[1]);
    const lines = (): string[][] => receiver.messages().map((m) => m.lines.filter((line) => !line.startsWith('MONOTONIC_USEC=')));
    await receiver.waitFor(1, 'READY=1 of generation 1');
    const first = (await get(port)).pid;
    // Generations never see the service manager's variables: the supervisor speaks for them.
    const environ = readFileSync(`/proc/${first}/environ`, 'utf8').split('\0');
    expect(environ.filter((v) => /^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID)=/.test(v))).toEqual([]);

    const beforeReload = process.hrtime.bigint() / 1_000n;
    sup.kill('SIGHUP');
    await receiver.waitFor(3, 'RELOADING=1 and READY=1 of generation 2');
    const second = Number(/pid (\d+)/.exec(lines()[2]![1]!)?.[1]);
    const stamp = BigInt(receiver.messages()[1]!.lines.find((line) => line.startsWith('MONOTONIC_USEC='))!.slice('MONOTONIC_USEC='.length));
    expect(stamp).toBeGreaterThanOrEqual(beforeReload);
    expect(stamp).toBeLessThanOrEqual(BigInt(receiver.messages()[1]!.received));

    writeFileSync(crashFile, '');
    sup.kill('SIGHUP');
    await receiver.waitFor(5, 'the failed roll');
    sup.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    await receiver.waitFor(7, 'STOPPING=1 and the last status');
    expect(lines()).toEqual([
      ['READY=1', `STATUS=Serving: generation 1 (pid ${first})`],
      ['RELOADING=1', 'STATUS=Reloading: starting generation 2'],
      ['READY=1', `STATUS=Serving: generation 2 (pid ${second})`],
      ['RELOADING=1', 'STATUS=Reloading: starting generation 3'],
      ['READY=1', expect.stringMatching(new RegExp(`^STATUS=Reload failed: generation 3 \\(pid \\d+\\) exited with code 1 before it was ready; generation 2 \\(pid ${second}\\) keeps serving$`))],
      ['STOPPING=1', 'STATUS=Stopping (SIGTERM)', 'EXTEND_TIMEOUT_USEC=8000000'],
      ['STATUS=Stopped: exit code 0'],
    ]);
    // MAINPID stays the supervisor: it never sends MAINPID=, and every message is its own.
    if (root) expect(new Set(receiver.messages().map((m) => m.pid))).toEqual(new Set([sup.pid]));
  });

});

sdNotify('hot restart under systemd (python3 receiver, systemd-notify installed)', () => {
  it('a hot restart under systemd makes the new process the main one: MAINPID= and WATCHDOG_PID name it', async () => {
    const receiver = await notifyReceiver();
    const old = startChild(runtimeCommand('node', fixture('generation-server.mjs')), {
      env: { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC: '60000000', WATCHDOG_PID: 'set-by-systemd', PORT: '0' },
    });
    await old.waitForLine(/^generation pid \d+ listening on /);
    old.kill('SIGUSR2');
    const line = await old.waitForLine(/^hot restart: pid \d+ is ready/);
    const next = Number(/pid (\d+) is ready/.exec(line)?.[1]);
    expect((await old.exited).code).toBe(0);
    try {
      const messages = await receiver.waitFor(1);
      expect(messages.map((m) => m.lines)).toEqual([[`MAINPID=${next}`, `STATUS=Hot restart: pid ${next} serves; pid ${old.pid} drains`]]);
      const environ = readFileSync(`/proc/${next}/environ`, 'utf8').split('\0');
      expect(environ).toContain(`WATCHDOG_PID=${next}`);
      expect(environ).toContain(`NOTIFY_SOCKET=${receiver.path}`);
    } finally {
      await killAllChildren([next]);
    }
  });
});

describe('PM2 (wait_ready)', () => {
  /** Runs the notify-client fixture as PM2 does (an IPC channel, as fork() opens) and collects what it sends its parent. */
  async function underPm2(env: Record<string, string>): Promise<{ messages: readonly unknown[]; output: string }> {
    const child = startChild(runtimeCommand('node', fixture('notify-client.mjs')), { ipc: true, env: { SCRIPT: 'sequence', NOTIFY_SOCKET: undefined, ...env } });
    await child.waitForExit();
    return { messages: child.messages, output: child.stdout.join('\n') };
  }

  it("sends process.send('ready') at ready() when PM2 started the process (pm_id and an IPC channel)", async () => {
    const { messages, output } = await underPm2({ pm_id: '0' });
    expect(output).toContain('"targets":{"pm2":true}');
    expect(messages).toEqual(['ready', 'ready']);
  });

  it('sends nothing over an IPC channel that is not PM2 (no pm_id)', async () => {
    const { messages, output } = await underPm2({});
    expect(output).toContain('"targets":{"pm2":false}');
    expect(messages).toEqual([]);
  });
});

describe('createServiceNotifier without a service manager, or with a broken one', () => {
  it('sends, spawns and times nothing when NOTIFY_SOCKET is unset', async () => {
    const clock = new ManualClock();
    const env: Record<string, string | undefined> = { ...process.env, WATCHDOG_USEC: '1000000' };
    delete env['NOTIFY_SOCKET'];
    const notifier = createServiceNotifier({ env, clock });
    expect(notifier.targets).toEqual({ systemd: undefined, pm2: false, watchdogMs: undefined });
    notifier.ready();
    notifier.reloading();
    notifier.stopping({ timeLeftMs: 1_000 });
    notifier.phase('drain', 500);
    notifier.handOver(12345);
    const spawned = childPids(process.pid).filter((pid) => commandName(pid) === 'systemd-notify');
    await notifier.stopped('done');
    expect(spawned).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it.runIf(hasSystemdNotify)('reports a notify socket that does not work once, and every call still returns', async () => {
    const lines: string[] = [];
    const notifier = createServiceNotifier({ env: { ...process.env, NOTIFY_SOCKET: '/nonexistent/quiesce/notify' }, log: (line) => lines.push(line) });
    notifier.ready();
    notifier.status('still serving');
    notifier.stopping({ timeLeftMs: 1_000 });
    await notifier.stopped('stopped');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^quiesce: cannot notify the service manager at NOTIFY_SOCKET=\/nonexistent\/quiesce\/notify: systemd-notify failed: .*No such file or directory.*\(reported once\)\.$/,
    );
  });

  it('reports a missing systemd-notify once, naming what to install', async () => {
    const lines: string[] = [];
    const notifier = createServiceNotifier({ env: { NOTIFY_SOCKET: '/run/quiesce-test/notify', PATH: '/nonexistent' }, log: (line) => lines.push(line) });
    notifier.ready();
    notifier.status('x');
    await notifier.stopped();
    expect(lines).toEqual([expect.stringContaining('systemd-notify is not installed or not in PATH (it comes with systemd')]);
  });

  it.each([
    [{ env: null }, 'env'],
    [{ pid: 0 }, 'pid'],
    [{ clock: {} }, 'clock'],
    [{ watchdog: 'yes' }, 'watchdog'],
    [{ log: 'stderr' }, 'log'],
  ])('refuses %j naming the option', (options, option) => {
    expect(() => createServiceNotifier(options as never)).toThrow(ListenerOptionError);
    try {
      createServiceNotifier(options as never);
    } catch (error) {
      expect((error as ListenerOptionError).option).toBe(option);
    }
  });
});

function commandName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
