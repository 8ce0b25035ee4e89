// quiesce:registry:call: every register / deregister / close of a backend is published once, as the
// result it resolves to; registries combined (etcd+consul) add no message of their own.
import { quiesceChannels } from '@quiesce/core';
import { FakeConsulAgent } from '@quiesce/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsulRegistry } from './consul-registry.ts';
import { combineRegistries } from './internal/combined-registry.ts';
import type { RegistryResult } from './service-registry.ts';

const agents: FakeConsulAgent[] = [];
const published: RegistryResult[] = [];
const listener = (message: unknown): void => {
  published.push(message as RegistryResult);
};
afterEach(async () => {
  quiesceChannels.registryCall.unsubscribe(listener);
  published.length = 0;
  for (const agent of agents.splice(0)) await agent.close().catch(() => {});
});

async function consul(port: number) {
  const agent = await FakeConsulAgent.start();
  agents.push(agent);
  const registry = createConsulRegistry({ address: agent.url, instance: { service: 'api', host: '127.0.0.1', port }, log: false });
  return { agent, registry };
}

describe('quiesce:registry:call', () => {
  it('publishes each call of a registry once, as the very result it resolves to', async () => {
    const { registry } = await consul(6001);
    quiesceChannels.registryCall.subscribe(listener);
    const results = [await registry.register(), await registry.deregister(), await registry.close()];
    expect(published).toHaveLength(3);
    for (const [i, message] of published.entries()) expect(message).toBe(results[i]);
    expect(published.map((m) => [m.registry, m.operation, m.outcome, m.entry])).toEqual([
      ['consul', 'register', 'ok', 'api:127.0.0.1:6001'],
      ['consul', 'deregister', 'ok', 'api:127.0.0.1:6001'],
      ['consul', 'close', 'ok', 'api:127.0.0.1:6001'],
    ]);
  });

  it('publishes a timed-out deregistration with its error', async () => {
    const { agent, registry } = await consul(6002);
    await registry.register();
    agent.mode = 'hang';
    quiesceChannels.registryCall.subscribe(listener);
    const result = await registry.deregister({ timeoutMs: 200 });
    expect(published).toEqual([result]);
    expect(result).toMatchObject({ operation: 'deregister', outcome: 'timeout', error: expect.any(Error) });
    await registry.close();
  });

  it('combined registries publish once per backend and call, never the combined result', async () => {
    const a = await consul(6003);
    const b = await consul(6004);
    const both = combineRegistries([a.registry, b.registry]);
    quiesceChannels.registryCall.subscribe(listener);
    const combined = await both.deregister();
    expect(combined.registry).toBe('consul+consul');
    expect(published.map((m) => [m.registry, m.operation, m.entry])).toEqual([
      ['consul', 'deregister', undefined],
      ['consul', 'deregister', undefined],
    ]);
    await both.register();
    await both.close();
    expect(published.map((m) => m.operation)).toEqual(['deregister', 'deregister', 'register', 'register', 'close', 'close']);
    expect(published.every((m) => m.registry === 'consul')).toBe(true);
  });
});
