import { killAllChildren, startServer } from '@quiesce/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { assertClientKeptUp } from './client-stalls.ts';
import { ClientStalledError, HarnessOptionError } from './errors.ts';
import { fixturePath } from './fixtures.ts';
import { runKeepAliveLoad } from './keep-alive-load.ts';
import type { LoadResult } from './load-result.ts';

afterAll(() => killAllChildren());

/** A run's result with only what assertClientKeptUp reads filled in. */
function result(ambiguous: number, error: number, longestClientStallMs: number): LoadResult {
  return {
    clients: [],
    totals: {
      attempts: 100,
      ok: 100 - ambiguous - error,
      refused: 0,
      ambiguous,
      error,
      refusedByErrno: {},
      ambiguousByKind: { reset: 0, 'closed-without-response': ambiguous, timeout: 0 },
      connections: 1,
      connectionCloseResponses: 0,
      statuses: {},
    },
    failures: [],
    stoppedBy: 'until',
    durationMs: 1_000,
    longestClientStallMs,
    clientStalls: [],
  };
}

describe('client stalls', () => {
  it('a client held up longer than the server keeps idle connections wakes to lost requests, and the run reports the stall', async () => {
    // The server (another process) closes a keep-alive connection idle for 100 ms (Node 20 closes it
    // about 1 s later than asked), as a drain does after its idle grace; the client then cannot run
    // for 2.5 s.
    const server = await startServer({ runtime: 'node', script: fixturePath('plain-server.mjs'), env: { KEEP_ALIVE_TIMEOUT_MS: '100' } });
    const stop = new AbortController();
    const load = runKeepAliveLoad({ port: server.port, clients: 5, until: stop.signal, maxRequests: 100_000, maxDurationMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const heldUntil = performance.now() + 2_500;
    while (performance.now() < heldUntil) {
      // The client's event loop is held up: it reads nothing and writes nothing.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop.abort();
    const run = await load;
    expect(run.longestClientStallMs).toBeGreaterThanOrEqual(2_400);
    expect(run.clientStalls.some((stall) => stall.ms >= 2_400 && stall.atMs > stall.ms)).toBe(true);
    expect(run.totals.ambiguous).toBeGreaterThanOrEqual(1);
    expect(() => assertClientKeptUp(run)).toThrow(ClientStalledError);
  });

  it('sets a run aside only when it lost requests while the client stalled for the limit or longer', () => {
    expect(() => assertClientKeptUp(result(0, 0, 5_000))).not.toThrow(); // clean: evidence however slow the client
    expect(() => assertClientKeptUp(result(3, 0, 99))).not.toThrow(); // lossy, client kept up: the test judges the server
    expect(() => assertClientKeptUp(result(3, 0, 100))).toThrow(ClientStalledError);
    expect(() => assertClientKeptUp(result(0, 1, 400), 300)).toThrow(ClientStalledError);
    expect(() => assertClientKeptUp(result(3, 0, 250), 300)).not.toThrow();
    const error = (() => {
      try {
        assertClientKeptUp(result(2, 1, 312));
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toMatchObject({ name: 'ClientStalledError', code: 'QUIESCE_CONFORMANCE_CLIENT_STALLED', stalledMs: 312, limitMs: 100, lost: 3 });
    // The retry condition of vitest.config.ts matches the message.
    expect((error as Error).message).toMatch(/QUIESCE_CONFORMANCE_CLIENT_STALLED/);
    expect((error as Error).message).toContain('312 ms');
  });

  it('rejects a limit that is not a positive number with a HarnessOptionError naming limitMs', () => {
    for (const bad of [0, -1, Number.NaN, '100' as unknown as number]) {
      expect(() => assertClientKeptUp(result(1, 0, 1_000), bad)).toThrow(HarnessOptionError);
      expect(() => assertClientKeptUp(result(1, 0, 1_000), bad)).toThrow(/limitMs/);
    }
  });
});
