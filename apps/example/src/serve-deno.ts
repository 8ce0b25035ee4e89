import { serveDeno } from '@quiesce/deno';
import { createFetchHandler } from './fetch-handler.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';

/**
 * Starts the example on `Deno.serve` with the Deno adapter; resolves once it listens. Under
 * `quiesce run` or systemd the adapter serves the inherited socket through Deno's `node:http`
 * instead (and says so).
 *
 * @example
 * ```ts
 * const { adapter, port } = await serveOnDeno({ host: '127.0.0.1', port: 0, state: () => ({ ready: true, live: true }) });
 * ```
 */
export function serveOnDeno(options: ServeOptions): Promise<RuntimeServer> {
  const handler = createFetchHandler(options.state, process.pid);
  let listened: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => {
    listened = resolve;
  });
  // Deno calls onListen before serveDeno returns: resolve with the adapter once both are known.
  const adapter = serveDeno({
    hostname: options.host,
    port: options.port,
    handler,
    onListen: (address) => listened('port' in address ? address.port : options.port),
  });
  return port.then((actual) => ({ runtime: 'deno', adapter, port: actual }));
}
