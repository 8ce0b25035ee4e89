import { serveDeno, upgradeWebSocket } from '@quiesce/deno';
import { createFetchHandler } from './fetch-handler.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';

/**
 * Starts the example on `Deno.serve` with the Deno adapter; resolves once it listens. Under
 * `quiesce run` or systemd the adapter serves the inherited socket through Deno's `node:http`
 * instead (and says so), where `/ws` answers 501. WebSockets on `/ws` (`upgradeWebSocket` of
 * `@quiesce/deno`) echo text frames; the adapter closes them with 1001 (1012 for a restart).
 *
 * @example
 * ```ts
 * const { adapter, port } = await serveOnDeno({ host: '127.0.0.1', port: 0, state: () => ({ ready: true, live: true }), drainStarted: new AbortController().signal });
 * ```
 */
export function serveOnDeno(options: ServeOptions): Promise<RuntimeServer> {
  const handler = createFetchHandler(options.state, {
    pid: process.pid,
    drainStarted: options.drainStarted,
    upgradeWebSocket: (request) => {
      let upgraded: ReturnType<typeof upgradeWebSocket>;
      try {
        upgraded = upgradeWebSocket(request);
      } catch {
        return false; // a request served through node:http (an inherited socket) cannot be upgraded
      }
      const { socket, response } = upgraded;
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    },
  });
  let listened: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => {
    listened = resolve;
  });
  // Deno calls onListen before serveDeno returns: resolve with the adapter once both are known.
  const adapter = serveDeno({
    hostname: options.host,
    port: options.port,
    handler: handler as (request: Request, info: unknown) => Response | Promise<Response>,
    onListen: (address) => listened('port' in address ? address.port : options.port),
  });
  return port.then((actual) => ({ runtime: 'deno', adapter, port: actual }));
}
