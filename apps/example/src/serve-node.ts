import { createServer } from 'node:http';
import { acquire, hotRestart } from 'quiesce/listener';
import { createNodeAdapter } from 'quiesce/node';
import { route } from './routes.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';

/**
 * Starts the example on `node:http` with the Node adapter; resolves once it listens: on the socket
 * it inherited (a hot restart, `quiesce run`, systemd) or on `host:port`. Rejects with
 * `AddressInUseError` (naming the holder's pid) when the port is taken.
 *
 * @example
 * ```ts
 * const { adapter, port } = await serveNode({ host: '127.0.0.1', port: 0, state: () => ({ ready: true, live: true }) });
 * ```
 */
export async function serveNode(options: ServeOptions): Promise<RuntimeServer> {
  const server = createServer((req, res) => {
    const result = route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost'), options.state());
    const send = (): void => {
      res.writeHead(result.status, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(Buffer.byteLength(result.body)),
        'x-pid': String(process.pid),
      });
      res.end(req.method === 'HEAD' ? undefined : result.body);
    };
    if (!result.delayMs) return send();
    const timer = setTimeout(send, result.delayMs);
    res.once('close', () => clearTimeout(timer));
  });
  const adapter = createNodeAdapter(server);
  // The lifecycle reports readiness (install(), once the server serves): acquire() must not, before
  // the signal handlers are installed.
  const listener = await acquire(server, { port: options.port, host: options.host, readiness: 'manual' });
  return {
    runtime: 'node',
    adapter,
    port: listener.port,
    restart: (stop) => hotRestart({ servers: server, stop }),
  };
}
