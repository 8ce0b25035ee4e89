import { type LoadClient, loadSettings, runLoad } from './internal/load-runner.ts';
import { retire } from './internal/retire.ts';
import type { LoadOptions } from './load-options.ts';
import type { LoadResult } from './load-result.ts';
import { openConnection, type RawConnection } from './raw-http.ts';

/**
 * Options for {@link runKeepAliveLoad}. Every run is bounded: by `maxRequests` (default 20 000 in
 * total) and `maxDurationMs` (default 10 000), and `until` can stop it earlier.
 */
export type KeepAliveLoadOptions = LoadOptions;

/**
 * Runs `clients` clients against `127.0.0.1:port`, each sending requests back to back on one
 * keep-alive connection, as a busy reverse proxy does. A client opens a new connection when the
 * last response carried `Connection: close`, when the server closed the connection between
 * requests, or after a failure. Every attempt is classified (see `AttemptOutcome`): `ok`, `refused`
 * (nothing sent, safe to retry) or `ambiguous` (request written, then reset, closed or silent: the
 * failure graceful shutdown must prevent), or `error`. Resolves when the run stops, after every
 * in-flight attempt ended and every connection closed; never rejects for a failed request. Throws
 * `HarnessOptionError` on bad options.
 *
 * @example
 * ```ts
 * const exited = server.exited;
 * const load = runKeepAliveLoad({ port: server.port, clients: 20, until: exited, maxDurationMs: 5_000 });
 * server.kill('SIGTERM');
 * const { totals } = await load;
 * expect(totals.ambiguous).toBe(0);
 * ```
 */
export function runKeepAliveLoad(options: KeepAliveLoadOptions): Promise<LoadResult> {
  let settings: ReturnType<typeof loadSettings>;
  try {
    settings = loadSettings(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const { host, port, method, path, headers, requestTimeoutMs } = settings;
  return runLoad(settings, (): LoadClient => {
    let connection: RawConnection | undefined;
    const retiring = new Set<Promise<void>>();
    const drop = (): void => {
      if (connection) {
        const closing = retire(connection).finally(() => retiring.delete(closing));
        retiring.add(closing);
      }
      connection = undefined;
    };
    return {
      async attempt(run) {
        // A connection the server closed (FIN or RST) while idle is replaced before writing, as
        // HTTP clients do; a close that races with the write is what `ambiguous` counts.
        if (connection?.closedBy) drop();
        if (!connection) {
          try {
            connection = await openConnection(port, host, { timeoutMs: requestTimeoutMs });
          } catch (error) {
            return run.failed(error);
          }
          run.connected();
        }
        try {
          const response = await connection.request({ method, path, headers, timeoutMs: requestTimeoutMs });
          run.ok(response);
          if (!response.keepAlive) drop();
        } catch (error) {
          drop();
          return run.failed(error);
        }
      },
      async cleanup() {
        drop();
        await Promise.all(retiring);
      },
    };
  });
}
