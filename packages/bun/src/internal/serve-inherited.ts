import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import type { InheritedListener } from '@quiesce/listener';
import { type FetchRequestInfo, type NodeAdapter, type NodeAdapterOptions, createFetchListener, createNodeAdapter } from '@quiesce/node';

/** The Node adapter serving the inherited socket, and when it listens. */
export interface InheritedServing<Address> {
  readonly adapter: NodeAdapter;
  readonly listening: Promise<Address>;
}

type Handler = (this: unknown, request: Request, server: unknown) => unknown;
type ErrorHandler = (this: unknown, error: unknown) => unknown;

/**
 * Serves Bun's `fetch` handler on a socket this process inherited (fd 3+): `Bun.serve` cannot adopt
 * an fd, Bun's `node:net` can. A `node:net` Server listens on the fd and hands each connection to a
 * `node:http` Server (`emit('connection', socket)`) that runs the handler through
 * `createFetchListener`, with the Node adapter's accounting. The handler's second argument is a
 * small stand-in for `Bun.Server`: `requestIP()`, `port`, `hostname`, `url`, and `upgrade()`,
 * which returns false (no WebSockets on this path).
 */
export function serveInherited(
  listener: InheritedListener,
  fetch: Handler,
  error: ErrorHandler | undefined,
  options: NodeAdapterOptions,
): InheritedServing<{ hostname: string; port: number }> {
  const infos = new WeakMap<Request, FetchRequestInfo>();
  let address: { hostname: string; port: number } = { hostname: '', port: 0 };
  const server = {
    get port(): number {
      return address.port;
    },
    get hostname(): string {
      return address.hostname;
    },
    get url(): URL {
      const host = address.hostname.includes(':') ? `[${address.hostname}]` : address.hostname;
      return new URL(`http://${host}:${address.port}/`);
    },
    requestIP(request: Request): { address: string; port: number; family: string } | null {
      const info = infos.get(request);
      if (!info?.remoteAddress) return null;
      return { address: info.remoteAddress, port: info.remotePort ?? 0, family: info.remoteAddress.includes(':') ? 'IPv6' : 'IPv4' };
    },
    upgrade(): boolean {
      return false;
    },
  };
  const http = createHttpServer(
    createFetchListener(
      (request, info) => {
        infos.set(request, info);
        return fetch.call(server, request, server) as Response | Promise<Response>;
      },
      error ? { onError: (thrown) => error.call(server, thrown) as Response | Promise<Response> } : {},
    ),
  );
  const net = createNetServer();
  const adapter = createNodeAdapter(http, { ...options, listener: net });
  net.on('connection', (socket) => http.emit('connection', socket));
  const listening = new Promise<{ hostname: string; port: number }>((resolve, reject) => {
    net.once('error', reject);
    net.once('listening', () => {
      net.off('error', reject);
      const bound = net.address() as AddressInfo | null;
      address = { hostname: bound?.address ?? '', port: bound?.port ?? 0 };
      resolve(address);
    });
  });
  net.listen({ fd: listener.fd });
  return { adapter, listening };
}
