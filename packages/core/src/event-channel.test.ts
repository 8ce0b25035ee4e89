import { channel as nodeChannel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from './errors.ts';
import { eventChannel } from './event-channel.ts';
import { quiesceChannels } from './quiesce-channels.ts';

let unique = 0;
const freshName = (): string => `quiesce-test:event-channel:${++unique}`;

describe('eventChannel', () => {
  it('reports no subscribers, and publishing is a no-op, until someone subscribes by name', () => {
    const channel = eventChannel<{ n: number }>(freshName());
    expect(channel.hasSubscribers).toBe(false);
    expect(() => channel.publish({ n: 1 })).not.toThrow();
  });

  it('delivers to a listener subscribed with node:diagnostics_channel by name, and stops after unsubscribe', () => {
    const name = freshName();
    const channel = eventChannel<{ n: number }>(name);
    const got: unknown[] = [];
    const listener = (message: unknown, from: string | symbol): void => {
      got.push([message, from]);
    };
    subscribe(name, listener);
    expect(channel.hasSubscribers).toBe(true);
    channel.publish({ n: 1 });
    unsubscribe(name, listener);
    expect(channel.hasSubscribers).toBe(false);
    channel.publish({ n: 2 });
    expect(got).toEqual([[{ n: 1 }, name]]);
  });

  it('is the runtime channel of that name: subscribing through it reaches publishers of the runtime channel', () => {
    const name = freshName();
    const channel = eventChannel<string>(name);
    const got: string[] = [];
    const listener = (message: string): void => {
      got.push(message);
    };
    expect(channel.subscribe(listener)).toBe(true);
    expect(nodeChannel(name).hasSubscribers).toBe(true);
    nodeChannel(name).publish('from node');
    channel.publish('from quiesce');
    expect(channel.unsubscribe(listener)).toBe(true);
    expect(channel.unsubscribe(listener)).toBe(false);
    expect(got).toEqual(['from node', 'from quiesce']);
  });

  it('two channel objects with one name share subscribers', () => {
    const name = freshName();
    const a = eventChannel<number>(name);
    const b = eventChannel<number>(name);
    const got: number[] = [];
    const listener = (n: number): void => {
      got.push(n);
    };
    a.subscribe(listener);
    expect(b.hasSubscribers).toBe(true);
    b.publish(7);
    a.unsubscribe(listener);
    expect(got).toEqual([7]);
  });

  it('refuses a name that is not a non-empty string with InvalidOptionError naming it', () => {
    expect(() => eventChannel('')).toThrow(InvalidOptionError);
    expect(() => eventChannel(42 as unknown as string)).toThrow(/Invalid name: 42\. Expected a non-empty channel name/);
  });
});

describe('quiesceChannels (the event catalog)', () => {
  it('has these stable channel names (a change here is a change to the public API)', () => {
    expect(Object.fromEntries(Object.entries(quiesceChannels).map(([role, channel]) => [role, channel.name]))).toMatchInlineSnapshot(`
      {
        "connectionClosed": "quiesce:drain:connection-closed",
        "drainEnd": "quiesce:drain:end",
        "drainProgress": "quiesce:drain:progress",
        "generationExited": "quiesce:generation:exited",
        "generationFailed": "quiesce:generation:failed",
        "generationReady": "quiesce:generation:ready",
        "generationRetired": "quiesce:generation:retired",
        "generationSpawned": "quiesce:generation:spawned",
        "hookEnd": "quiesce:hook:end",
        "registryCall": "quiesce:registry:call",
        "restartEnd": "quiesce:restart:end",
        "shutdownEnd": "quiesce:shutdown:end",
        "shutdownPhaseEnd": "quiesce:shutdown:phase:end",
        "shutdownPhaseStart": "quiesce:shutdown:phase:start",
        "shutdownStart": "quiesce:shutdown:start",
      }
    `);
  });

  it('every name is unique and carries the quiesce: prefix', () => {
    const names = Object.values(quiesceChannels).map((channel) => channel.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^quiesce:[a-z]+(:[a-z-]+)+$/);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(quiesceChannels)).toBe(true);
  });
});
