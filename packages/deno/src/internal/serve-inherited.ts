import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InheritedListener } from '@quiesce/listener';
import { type NodeAdapter, type NodeAdapterOptions, createFetchListener, createNodeAdapter } from '@quiesce/node';
import type { DenoNetAddr, DenoServeHandler } from '../deno-types.ts';

/** The Node adapter serving the inherited socket, and when it listens. */
export interface InheritedServing<Address> {
  readonly adapter: NodeAdapter;
  readonly listening: Promise<Address>;
}

/**
 * Serves a `Deno.serve` handler on a socket this process inherited (fd 3+): `Deno.serve` cannot
 * adopt an fd, Deno's `node:http` can (`listen({ fd })`). The handler runs through
 * `createFetchListener` with the Node adapter's accounting and gets `{ remoteAddr, completed }`
 * as its second argument, as from `Deno.serve`.
 */
export function serveInherited(
  listener: InheritedListener,
  handler: DenoServeHandler,
  onError: ((error: unknown) => Response | Promise<Response>) | undefined,
  options: NodeAdapterOptions,
): InheritedServing<DenoNetAddr> {
  const http = createHttpServer(
    createFetchListener(
      (request, info) =>
        handler(request, {
          remoteAddr: { transport: 'tcp', hostname: info.remoteAddress ?? '', port: info.remotePort ?? 0 },
          completed: info.completed,
        }),
      onError ? { onError: (error) => onError(error) } : {},
    ),
  );
  const adapter = createNodeAdapter(http, options);
  const listening = new Promise<DenoNetAddr>((resolve, reject) => {
    http.once('error', reject);
    http.once('listening', () => {
      http.off('error', reject);
      const bound = http.address() as AddressInfo | null;
      resolve({ transport: 'tcp', hostname: bound?.address ?? '', port: bound?.port ?? 0 });
    });
  });
  http.listen({ fd: listener.fd });
  return { adapter, listening };
}
