import { createServer } from 'node:http';
import { createNodeAdapter } from 'quiesce/node';
import { route } from './routes.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';

/**
 * Starts the example on `node:http` with the Node adapter; resolves once it listens.
 *
 * @example
 * ```ts
 * const { adapter, port } = await serveNode({ host: '127.0.0.1', port: 0, state: () => ({ ready: true, live: true }) });
 * ```
 */
export function serveNode(options: ServeOptions): Promise<RuntimeServer> {
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
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const address = server.address();
      resolve({ runtime: 'node', adapter, port: typeof address === 'object' && address ? address.port : options.port });
    });
  });
}
