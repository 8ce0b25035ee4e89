import type { Duplex } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type Child,
  fixturesBeside,
  killAllChildren,
  LISTEN_PID_WRAPPER,
  runtimeCommand,
  runtimesUnderTest,
  startChild,
  until,
} from '@quiesce/test-support';
import { controlChannel } from './internal/control-channel.ts';

const fixture = fixturesBeside(import.meta.url);

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

/** The probe on `runtime` with the starter's end of its control channel (fd 3 in the child). */
function startProbe(runtime: Parameters<typeof runtimeCommand>[0], env: Record<string, string> = {}): { child: Child; channel: Duplex } {
  const command = runtimeCommand(runtime, fixture('stop-request-probe.mjs'));
  const child = startChild([...LISTEN_PID_WRAPPER, command.command, ...command.args], {
    env: { ...command.env, LISTEN_FDS: '0', QUIESCE_CONTROL_FD: '3', ...env },
    extraStdio: ['pipe'],
  });
  return { child, channel: child.process.stdio[3] as Duplex };
}

describe.each(runtimesUnderTest())('stop requests on %s (QUIESCE_CONTROL_FD)', (runtime) => {
  it('says CONTROL=1 once it listens, and hands STOP=restart to the application', async () => {
    const { child, channel } = startProbe(runtime, { KEEP_ALIVE: '1' });
    const starter = controlChannel(channel);
    await child.waitForLine(/^listening for stop requests$/, 20_000);
    await until(() => starter.listening, 10_000, 'CONTROL=1 from the child');
    expect(starter.requestStop('restart')).toBe(true);
    await child.waitForLine(/^stop request: restart$/);
    expect(await child.waitForExit()).toMatchObject({ code: 0 });
  });

  it('hands STOP=shutdown over too, and ignores lines it does not know', async () => {
    const { child, channel } = startProbe(runtime, { KEEP_ALIVE: '1' });
    const starter = controlChannel(channel);
    await until(() => starter.listening, 20_000, 'CONTROL=1 from the child');
    channel.write('HELLO=1\nSTOP=later\n');
    expect(starter.requestStop('shutdown')).toBe(true);
    await child.waitForLine(/^stop request: shutdown$/);
    expect(child.lines.filter((line) => line.startsWith('stop request'))).toEqual(['stop request: shutdown']);
  });

  // Bun's node:net cannot read a socket it is handed, so the channel is read with a file stream,
  // which holds the event loop until the lifecycle closes it (at shutdown, or uninstall()).
  const holdsNothing = runtime === 'bun' ? it.skip : it;
  holdsNothing(`the channel does not keep the process alive${runtime === 'bun' ? ' (skipped on bun: a file stream reads it and holds the loop until closed)' : ''}`, async () => {
    const { child, channel } = startProbe(runtime);
    controlChannel(channel);
    await child.waitForLine(/^exited by itself$/, 20_000);
    expect(await child.waitForExit()).toMatchObject({ code: 0 });
  });
});

describe.each(runtimesUnderTest())('pins on %s: what node:net makes of a socket it is handed', (runtime) => {
  it(`${runtime === 'bun' ? 'cannot read it (so the channel is read with a file stream on Bun)' : 'reads it'}`, async () => {
    const command = runtimeCommand(runtime, fixture('net-socket-fd-probe.mjs'));
    const child = startChild([command.command, ...command.args], { env: command.env, extraStdio: ['pipe'] });
    await child.waitForLine(/^ready$/, 20_000);
    const channel = child.process.stdio[3] as Duplex;
    channel.on('error', () => {}); // the child exits with its end open
    channel.write('hello\n');
    const line = await child.waitForLine(/^(read|failed) /);
    if (runtime === 'bun') expect(line).toMatch(/^failed /);
    else expect(line).toBe('read hello');
  });
});

describe('the starter side of the control channel', () => {
  it('asks nothing of a generation that never said CONTROL=1 (it gets signals instead)', async () => {
    const { child, channel } = startProbe('node', { KEEP_ALIVE: '1', QUIESCE_CONTROL_FD: '9' });
    const starter = controlChannel(channel);
    await child.waitForLine(/^listening for stop requests$/, 20_000);
    expect(child.lines.join('\n')).toMatch(/ignoring QUIESCE_CONTROL_FD="9"/);
    expect(starter.listening).toBe(false);
    expect(starter.requestStop('restart')).toBe(false);
    starter.close();
    expect(starter.requestStop('restart')).toBe(false);
  });

  it('stops asking once the generation has closed its end', async () => {
    const { child, channel } = startProbe('node', { KEEP_ALIVE: '1' });
    const starter = controlChannel(channel);
    await until(() => starter.listening, 20_000, 'CONTROL=1 from the child');
    child.kill('SIGKILL');
    await child.exited;
    await until(() => !starter.listening, 5_000, 'the end of the channel');
    expect(starter.requestStop('restart')).toBe(false);
    expect(controlChannel(null).requestStop('restart')).toBe(false);
  });
});
