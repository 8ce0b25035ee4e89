// The listener's side of the event catalog: quiesce:generation:* (spawned, ready, failed, retired,
// exited) for every generation a hot restart or `quiesce run` starts, and quiesce:restart:end for
// every hot restart and roll. Real child processes, subscribed in this process.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventChannel, quiesceChannels } from '@quiesce/core';
import { fixturesBeside, listeningSocket, until } from '@quiesce/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { hotRestart } from './hot-restart.ts';
import { runSupervisor } from './supervisor.ts';

const generationServer = fixturesBeside(import.meta.url)('generation-server.mjs');

type Event = [string, Record<string, unknown>];
const channels: [string, EventChannel<unknown>][] = [
  ['spawned', quiesceChannels.generationSpawned],
  ['ready', quiesceChannels.generationReady],
  ['failed', quiesceChannels.generationFailed],
  ['retired', quiesceChannels.generationRetired],
  ['exited', quiesceChannels.generationExited],
  ['restart:end', quiesceChannels.restartEnd],
];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Records every generation and restart message from now until the test ends. */
function record(): Event[] {
  const events: Event[] = [];
  for (const [name, channel] of channels) {
    const listener = (message: unknown): void => {
      events.push([name, message as Record<string, unknown>]);
    };
    channel.subscribe(listener);
    cleanups.push(() => channel.unsubscribe(listener));
  }
  return events;
}

/** The events of one generation, by number, without the fields that vary from run to run. */
const ofGeneration = (events: Event[], generation: number | undefined, pid?: number): string[] =>
  events
    .filter(([name, m]) => name !== 'restart:end' && m['generation'] === generation && (pid === undefined || m['pid'] === pid))
    .map(([name, m]) => [name, m['signal'] ?? m['reason'] ?? (m['exitCode'] === undefined ? '' : `${m['exitCode']} ${m['while']}`)].join(' ').trim());

describe('quiesce run publishes its generations and rolls', () => {
  it('a roll: generation 2 spawned and ready, generation 1 retired and exited, then restart:end rolled', async () => {
    const events = record();
    const supervisor = await runSupervisor({ listen: ['127.0.0.1:0'], command: [process.execPath, generationServer], settleMs: 0, signals: false, log: false });
    cleanups.push(() => supervisor.stop());
    await until(() => supervisor.current !== undefined, 20_000, 'generation 1 ready');
    const rolled = await supervisor.roll();
    expect(rolled).toMatchObject({ outcome: 'rolled', generation: 2 });
    expect(await supervisor.stop()).toBe(0);

    expect(ofGeneration(events, 1)).toEqual(['spawned', 'ready', 'retired SIGTERM', 'exited 0 stopping']);
    expect(ofGeneration(events, 2)).toEqual(['spawned', 'ready', 'retired SIGTERM', 'exited 0 stopping']);
    const restarts = events.filter(([name]) => name === 'restart:end').map(([, m]) => m);
    expect(restarts).toEqual([{ mode: 'supervisor', outcome: 'rolled', durationMs: expect.any(Number), pid: rolled.pid, reason: undefined }]);
    const ready = events.find(([name, m]) => name === 'ready' && m['generation'] === 2)![1];
    expect(ready).toEqual({ mode: 'supervisor', generation: 2, pid: rolled.pid, readyMs: expect.any(Number) });
    expect(ready['readyMs']).toBeGreaterThanOrEqual(0);
  });

  it('a rollback: the new generation failed and exited, restart:end rolled-back with the reason', async () => {
    const crashFile = join(tmpdir(), `quiesce-events-crash-${process.pid}-${Date.now()}`);
    cleanups.push(() => rmSync(crashFile, { force: true }));
    const events = record();
    const supervisor = await runSupervisor({ listen: ['127.0.0.1:0'], command: [process.execPath, generationServer], env: { ...process.env, CRASH_FILE: crashFile }, signals: false, log: false });
    cleanups.push(() => supervisor.stop());
    await until(() => supervisor.current !== undefined, 20_000, 'generation 1 ready');
    writeFileSync(crashFile, '');
    const rolled = await supervisor.roll();
    expect(rolled.outcome).toBe('rolled-back');
    await until(() => ofGeneration(events, 2).length === 3, 10_000, 'generation 2 exited');

    expect(ofGeneration(events, 2)).toEqual(['spawned', 'exited 1 starting', 'failed exited with code 1 before it was ready']);
    expect(events.filter(([name]) => name === 'restart:end').map(([, m]) => m)).toEqual([
      { mode: 'supervisor', outcome: 'rolled-back', durationMs: expect.any(Number), pid: rolled.pid, reason: 'exited with code 1 before it was ready' },
    ]);
    expect(ofGeneration(events, 1)).toEqual(['spawned', 'ready']);
  });
});

describe('hotRestart publishes its successor and the restart', () => {
  it('restart:end restarted comes once the successor is ready, before this process is stopped', async () => {
    const holder = await listeningSocket();
    const events = record();
    const result = await hotRestart({
      servers: holder.server,
      stop: () => {
        events.push(['stop', {}]);
        holder.server.close();
        return { exitCode: 0 };
      },
      command: [process.execPath, generationServer],
      env: { ...process.env, PORT: '0' },
      settleMs: 0,
      log: false,
    });
    const successor = result.pid!;
    cleanups.push(() => {
      try {
        process.kill(successor, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    expect(result.outcome).toBe('restarted');
    expect(events.map(([name]) => name)).toEqual(['spawned', 'ready', 'restart:end', 'stop']);
    expect(events[0]![1]).toEqual({ mode: 'hot-restart', generation: undefined, pid: successor });
    expect(events[2]![1]).toEqual({ mode: 'hot-restart', outcome: 'restarted', durationMs: expect.any(Number), pid: successor, reason: undefined });

    // The successor lives on; when it goes, it went on its own while serving.
    process.kill(successor, 'SIGKILL');
    await until(() => events.some(([name]) => name === 'exited'), 10_000, 'the successor exited');
    expect(ofGeneration(events, undefined, successor).at(-1)).toBe('exited 137 serving');
  });
});
