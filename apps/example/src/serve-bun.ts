import { serveBun } from '@quiesce/bun';
import { createFetchHandler } from './fetch-handler.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';

/**
 * Starts the example on `Bun.serve` with the Bun adapter; under `quiesce run` or systemd the adapter
 * serves the inherited socket through Bun's `node:net` + `node:http` instead (and says so), where
 * `/ws` answers 501. WebSockets on `/ws` echo text frames; the adapter closes them with 1001 (1012
 * for a restart) before the listener closes.
 *
 * @example
 * ```ts
 * const { adapter, port } = await serveOnBun({ host: '127.0.0.1', port: 0, state: () => ({ ready: true, live: true }), drainStarted: new AbortController().signal });
 * ```
 */
export async function serveOnBun(options: ServeOptions): Promise<RuntimeServer> {
  const fetch = createFetchHandler(options.state, {
    pid: process.pid,
    drainStarted: options.drainStarted,
    // Bun answers the upgrade itself once server.upgrade() accepted it; the inherited socket's stand-in cannot.
    upgradeWebSocket: (request, server) => ((server as { upgrade(request: Request): boolean }).upgrade(request) ? undefined : false),
  });
  const adapter = serveBun({
    hostname: options.host,
    port: options.port,
    fetch,
    websocket: {
      message: (ws, message) => void ws.send(message),
    },
  });
  const port = adapter.inherited ? (await adapter.inherited.listening).port : (adapter.server?.port ?? options.port);
  return { runtime: 'bun', adapter, port };
}
