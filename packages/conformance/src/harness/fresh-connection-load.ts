import { type LoadClient, loadSettings, runLoad } from './internal/load-runner.ts';
import { retire } from './internal/retire.ts';
import type { LoadOptions } from './load-options.ts';
import type { LoadResult } from './load-result.ts';
import { openConnection } from './raw-http.ts';

/** Options for {@link runFreshConnectionLoad}; bounded like the keep-alive load. */
export type FreshConnectionLoadOptions = LoadOptions;

/**
 * Like `runKeepAliveLoad`, but every attempt opens a new connection and sends `Connection: close`,
 * so each request also exercises the listener (accept queue, listener close). Outcomes are
 * classified the same way: `ok`, `refused`, `ambiguous`, `error`. Resolves when the run stops and
 * every connection closed; never rejects for a failed request. Throws `HarnessOptionError` on bad options.
 *
 * @example
 * ```ts
 * const { totals } = await runFreshConnectionLoad({ port: server.port, clients: 10, maxRequests: 2_000 });
 * expect(totals.ok + totals.refused).toBe(totals.attempts); // refused is safe, ambiguous is not
 * ```
 */
export function runFreshConnectionLoad(options: FreshConnectionLoadOptions): Promise<LoadResult> {
  let settings: ReturnType<typeof loadSettings>;
  try {
    settings = loadSettings(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const { host, port, method, path, requestTimeoutMs } = settings;
  const headers = { ...settings.headers, Connection: 'close' };
  return runLoad(settings, (): LoadClient => ({
    async attempt(run) {
      let connection: Awaited<ReturnType<typeof openConnection>>;
      try {
        connection = await openConnection(port, host, { timeoutMs: requestTimeoutMs });
      } catch (error) {
        return run.failed(error);
      }
      run.connected();
      try {
        run.ok(await connection.request({ method, path, headers, timeoutMs: requestTimeoutMs }));
      } catch (error) {
        return run.failed(error);
      } finally {
        await retire(connection);
      }
    },
    async cleanup() {},
  }));
}
