// The Consul client against a recording stand-in for the agent's HTTP API (no Consul binary can be
// installed here): it checks the request shapes the Consul docs give, not Consul's own behaviour.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeConsulAgent, waitFor } from '@quiesce/test-support';
import { createConsulRegistry } from './consul-registry.ts';
import { RegistryRequestError, RegistryTimeoutError, RegistryUnavailableError } from './errors.ts';
import type { ServiceRegistry } from './service-registry.ts';

const TOKEN = 'b1gs3cr3t-acl-token';
const agents: FakeConsulAgent[] = [];
const registries: ServiceRegistry[] = [];
afterEach(async () => {
  for (const registry of registries.splice(0)) await registry.close();
  for (const agent of agents.splice(0)) await agent.close().catch(() => {});
});

async function setup(options: { ttlSeconds?: number; token?: string; agentToken?: string | null } = {}) {
  const agent = await FakeConsulAgent.start(options.agentToken === null ? {} : { token: options.agentToken ?? TOKEN });
  agents.push(agent);
  const lines: string[] = [];
  const registry = createConsulRegistry({
    address: agent.url,
    token: options.token ?? TOKEN,
    ttlSeconds: options.ttlSeconds ?? 10,
    instance: { service: 'api', host: '127.0.0.1', port: 6000, tags: ['v1'], metadata: { version: '1.2.3' } },
    log: (line) => lines.push(line),
  });
  registries.push(registry);
  return { agent, registry, lines };
}

const ID = 'api:127.0.0.1:6000';
const CHECK = `service:${ID}`;
const summary = (agent: FakeConsulAgent): string[] =>
  agent.requests.map((r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query as Record<string, string>)}` : ''}`);

describe('consul registry against a recording agent', () => {
  it('registers with a TTL check that starts critical, then passes it once ready', async () => {
    const { agent, registry } = await setup();
    const result = await registry.register();
    expect(result).toMatchObject({ registry: 'consul', operation: 'register', outcome: 'ok', entry: ID, error: undefined });

    expect(summary(agent)).toEqual(['PUT /v1/agent/service/register', `PUT /v1/agent/check/pass/${CHECK}?note=ready`]);
    expect(agent.requests[0]!.body).toEqual({
      ID,
      Name: 'api',
      Address: '127.0.0.1',
      Port: 6000,
      Tags: ['v1'],
      Meta: { version: '1.2.3' },
      Check: {
        CheckID: CHECK,
        Name: 'api lifecycle (quiesce)',
        Notes: expect.any(String),
        TTL: '10s',
        Status: 'critical',
        DeregisterCriticalServiceAfter: '60s',
      },
    });
    expect(agent.requests[0]!.headers['content-type']).toBe('application/json');
    for (const request of agent.requests) expect(request.headers['x-consul-token']).toBe(TOKEN);
    expect(agent.violations).toEqual([]);
    expect(agent.checkStatus(CHECK)).toBe('passing');
  });

  it('passes the check every third of its TTL, so it never turns critical while serving', async () => {
    const { agent, registry } = await setup({ ttlSeconds: 2 });
    await registry.register();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const passes = agent.requests.filter((r) => r.path === `/v1/agent/check/pass/${CHECK}`);
    expect(passes.length).toBeGreaterThanOrEqual(2);
    expect(agent.checkStatus(CHECK)).toBe('passing');
    expect(agent.violations).toEqual([]);
  });

  it('deregister fails the check first, then deregisters the service', async () => {
    const { agent, registry, lines } = await setup();
    await registry.register();
    agent.requests.length = 0;

    const result = await registry.deregister();
    expect(result).toMatchObject({ operation: 'deregister', outcome: 'ok', entry: ID, error: undefined });
    expect(summary(agent)).toEqual([
      `PUT /v1/agent/check/fail/${CHECK}?note=shutting+down`,
      `PUT /v1/agent/service/deregister/${ID}`,
    ]);
    expect(agent.services.size).toBe(0);
    expect(agent.violations).toEqual([]);
    expect(lines.at(-1)).toMatch(new RegExp(`^quiesce-registry: consul deregistered ${ID} in \\d+ms$`));
  });

  it('registers again when the agent forgot the service (an agent restart)', async () => {
    const { agent, registry, lines } = await setup({ ttlSeconds: 3 });
    await registry.register();
    agent.forget();
    agent.requests.length = 0;

    const back = await waitFor(async () => agent.services.has(ID) && agent.checkStatus(CHECK) === 'passing', 15_000);
    expect(back).toBeDefined();
    expect(summary(agent).slice(0, 3)).toEqual([
      `PUT /v1/agent/check/pass/${CHECK}`,
      'PUT /v1/agent/service/register',
      `PUT /v1/agent/check/pass/${CHECK}?note=ready`,
    ]);
    expect(lines.some((l) => l.includes(`registration ${ID} was lost`))).toBe(true);
    expect(agent.violations).toEqual([]);
  });

  it('deregistering a service the agent no longer knows is ok', async () => {
    const { agent, registry } = await setup();
    await registry.register();
    agent.forget();
    expect((await registry.deregister()).outcome).toBe('ok');
  });

  it('a token the agent refuses is reported with its 403', async () => {
    const { registry } = await setup({ token: 'wrong-token' });
    const result = await registry.register();
    expect(result.outcome).toBe('error');
    expect(result.error).toBeInstanceOf(RegistryRequestError);
    expect((result.error as RegistryRequestError).status).toBe(403);
    expect(result.error?.message).toMatch(/PUT \/v1\/agent\/service\/register .*HTTP 403: Permission denied/);
  });

  it('sends no token header when none is configured', async () => {
    const agent = await FakeConsulAgent.start();
    agents.push(agent);
    const registry = createConsulRegistry({ address: agent.url, log: false });
    registries.push(registry);
    expect((await registry.register({ service: 'web', host: 'web-1.internal', port: 80 })).outcome).toBe('ok');
    expect(agent.requests.every((r) => r.headers['x-consul-token'] === undefined)).toBe(true);
    expect(agent.services.get('web:web-1.internal:80')).toMatchObject({ Name: 'web', Address: 'web-1.internal', Port: 80 });
  });

  it('deregister against a hung agent is abandoned at its timeout', async () => {
    const { agent, registry } = await setup();
    await registry.register();
    agent.mode = 'hang';
    const started = performance.now();
    const result = await registry.deregister({ timeoutMs: 500 });
    expect(result.outcome).toBe('timeout');
    expect(result.error).toBeInstanceOf(RegistryTimeoutError);
    expect(performance.now() - started).toBeLessThan(500 + 4_000);
    expect((await registry.close()).outcome).toBe('ok');
  });

  it('deregister with the agent gone fails within its timeout', async () => {
    const { agent, registry, lines } = await setup();
    await registry.register();
    await agent.close();
    const started = performance.now();
    const result = await registry.deregister({ timeoutMs: 1_000 });
    expect(result.outcome).toBe('error');
    expect(result.error).toBeInstanceOf(RegistryUnavailableError);
    expect(performance.now() - started).toBeLessThan(1_000 + 4_000);
    expect(lines.at(-1)).toMatch(/keep-alive stopped, so its check turns critical within 10 s and Consul removes it 60 s later$/);
  });
});
