import { createServer } from 'node:http';
import { acquire, hotRestart } from 'quiesce/listener';
import { createNodeAdapter } from 'quiesce/node';
import { WebSocketServer } from 'ws';
import { EVENT_STREAM_HEADERS, tickEvents } from './events.ts';
import { route } from './routes.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';

/**
 * Starts the example on `node:http` with the Node adapter; resolves once it listens: on the socket
 * it inherited (a hot restart, `quiesce run`, systemd) or on `host:port`. `/ws` is a `ws` echo the
 * adapter closes with 1001 (1012 for a restart); `/events` ends when the drain starts. Rejects with
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
    if (result.special === 'events') {
      res.writeHead(200, { ...EVENT_STREAM_HEADERS, 'x-pid': String(process.pid) });
      if (req.method === 'HEAD') return void res.end();
      const ticks = tickEvents(options.drainStarted, { write: (chunk) => res.write(chunk), end: () => res.end() });
      res.once('close', () => ticks.cancel());
      return;
    }
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
  // WebSockets on /ws echo text frames; the adapter closes them with 1001 (1012 for a restart).
  const webSockets = new WebSocketServer({ server, path: '/ws' });
  webSockets.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  // ws repeats the server's errors; a taken port is acquire()'s to report.
  webSockets.on('error', () => {});
  const adapter = createNodeAdapter(server, { webSockets });
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
