import { serveBun } from '@quiesce/bun';
import { createFetchHandler } from './fetch-handler.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';

/**
 * Starts the example on `Bun.serve` with the Bun adapter.
 *
 * @example
 * ```ts
 * const { adapter, port } = await serveOnBun({ host: '127.0.0.1', port: 0, state: () => ({ ready: true, live: true }) });
 * ```
 */
export function serveOnBun(options: ServeOptions): Promise<RuntimeServer> {
  const fetch = createFetchHandler(options.state, process.pid);
  const adapter = serveBun({ hostname: options.host, port: options.port, fetch });
  return Promise.resolve({ runtime: 'bun', adapter, port: adapter.server.port ?? options.port });
}
