// Loopback TCP helpers for the tests: free ports, a listening socket to hand to a child, a plain
// GET, a server that never answers, and a proxy that can start refusing or hanging, so a registry
// that is down or hung can be made so mid-test.
import { once } from 'node:events';
import { request } from 'node:http';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

/** A port that was free a moment ago (bind port 0, read it, release it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A port nothing listens on: connections to it are refused. */
export async function closedPort(): Promise<number> {
  return freePort();
}

/** A TCP server that accepts connections and never answers. */
export interface HungServer {
  readonly url: string;
  readonly connections: number;
  close(): Promise<void>;
}

export async function startHungServer(): Promise<HungServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', () => {}); // read and drop
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    close: () => closeServer(server, sockets),
  };
}

/** How a {@link TcpProxy} treats traffic: pass it, swallow it without answering, or refuse connections. */
export type ProxyMode = 'forward' | 'hang' | 'refuse';

export interface TcpProxy {
  readonly url: string;
  readonly port: number;
  /** Switches mode; `refuse` closes the listener and every open connection, leaving it listens again. */
  setMode(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy to `127.0.0.1:targetPort`. */
export async function startProxy(targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.on('data', (chunk) => {
      if (mode === 'forward') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode === 'forward') client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async setMode(next) {
      mode = next;
      if (next === 'refuse') await closeServer(server, sockets);
      else if (!server.listening) {
        // Back from `refuse`: listen on the same port again.
        server.listen(port, '127.0.0.1');
        await once(server, 'listening');
      }
    },
    close: () => closeServer(server, sockets),
  };
}

async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  if (!server.listening) return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A TCP server listening on 127.0.0.1 (`port`, default any) that accepts nothing on its own, and its fd to pass to a child. */
export async function listeningSocket(port = 0): Promise<{ server: Server; port: number; fd: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return { server, port: (server.address() as AddressInfo).port, fd };
}

/** GET `path` on 127.0.0.1:`port` with a fresh connection; resolves with status, body and the `x-pid` header. */
export function get(port: number, path = '/'): Promise<{ status: number; body: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, pid: Number(res.headers['x-pid']) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `test` every 50 ms until it is true; throws after `timeoutMs`, naming `what`. */
export async function until(test: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const limit = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > limit) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
