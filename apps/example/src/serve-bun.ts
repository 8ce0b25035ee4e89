import { serveBun } from '@quiesce/bun';
import { createFetchHandler } from './fetch-handler.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';

/**
 * Starts the example on `Bun.serve` with the Bun adapter; under `quiesce run` or systemd the adapter
 * serves the inherited socket through Bun's `node:net` + `node:http` instead (and says so).
 *
 * @example
 * ```ts
 * const { adapter, port } = await serveOnBun({ host: '127.0.0.1', port: 0, state: () => ({ ready: true, live: true }) });
 * ```
 */
export async function serveOnBun(options: ServeOptions): Promise<RuntimeServer> {
  const fetch = createFetchHandler(options.state, process.pid);
  const adapter = serveBun({ hostname: options.host, port: options.port, fetch });
  const port = adapter.inherited ? (await adapter.inherited.listening).port : (adapter.server?.port ?? options.port);
  return { runtime: 'bun', adapter, port };
}
