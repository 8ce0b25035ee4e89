import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllServers, type LoadResult, runKeepAliveLoad, type ServerExit, type ServerHandle, startServer } from '../../conformance/src/harness/index.ts';

// 20 clients, each in a tight loop on one keep-alive connection (reconnecting only when told to or
// refused), and SIGTERM in the middle. `ambiguous` counts requests that were written and then lost
// (reset, or closed without a response): the failure graceful shutdown exists to prevent.
// Refused connections after the listener closed are fine: nothing was sent.

const adapterServer = fileURLToPath(new URL('./fixtures/server.ts', import.meta.url));
const bareServer = fileURLToPath(new URL('./fixtures/bare-server.ts', import.meta.url));
let server: ServerHandle | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => killAllServers());

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function sigtermUnderLoad(script: string, env: Record<string, string> = {}): Promise<{ result: LoadResult; exit: ServerExit }> {
  const current = await startServer({ runtime: 'deno', script, env });
  server = current;
  const stop = new AbortController();
  const load = runKeepAliveLoad({ port: current.port, clients: 20, until: stop.signal, maxDurationMs: 5_000, maxRequests: 100_000 });
  await delay(300);
  current.kill('SIGTERM');
  const exit = await Promise.race([current.exited, delay(4_000).then(() => current.stop())]);
  // Clients whose connection was closed reconnect and are refused: let them.
  await delay(100);
  stop.abort();
  return { result: await load, exit };
}

function summary(label: string, { result, exit }: { result: LoadResult; exit: ServerExit }): string {
  const t = result.totals;
  return (
    `[${label}] attempts=${t.attempts} ok=${t.ok} refused=${t.refused} ambiguous=${t.ambiguous} ` +
    `${JSON.stringify(t.ambiguousByKind)} error=${t.error} connection-close=${t.connectionCloseResponses} connections=${t.connections}; ` +
    `ambiguous per client: ${result.clients.map((c) => c.ambiguous).join('')}; exit ${exit.code} ${exit.afterMs} ms after SIGTERM`
  );
}

describe('SIGTERM under 20 keep-alive clients in a tight loop (real Deno process)', () => {
  it('baseline: a bare Deno.serve shutdown() loses requests (about one per client)', async () => {
    const run = await sigtermUnderLoad(bareServer);
    console.log(summary('deno bare shutdown()', run));
    expect(run.result.totals.error).toBe(0);
    expect(run.result.totals.ok).toBeGreaterThan(0);
    expect(run.result.totals.ambiguous).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['no lame duck', '0'],
    ['a 300 ms lame duck (clients reconnect throughout)', '300'],
  ])('serveDeno + createLifecycle, %s: not one request is lost, and the process exits 0', async (_label, lameDuckMs) => {
    const run = await sigtermUnderLoad(adapterServer, { QUIESCE_LAME_DUCK_MS: lameDuckMs });
    console.log(summary(`deno adapter, lame duck ${lameDuckMs} ms`, run));
    const { totals } = run.result;
    expect(totals.ok + totals.refused + totals.ambiguous + totals.error).toBe(totals.attempts);
    expect(totals.error).toBe(0);
    expect(totals.ok).toBeGreaterThan(0);
    expect(totals.connectionCloseResponses).toBeGreaterThanOrEqual(20);
    expect(run.result.failures.filter((f) => f.outcome === 'ambiguous')).toEqual([]);
    expect(totals.ambiguous).toBe(0);
    expect(run.exit.code).toBe(0);
  });
});
