import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AmbiguousFailure,
  ConnectionClosedError,
  HarnessOptionError,
  ProtocolFailure,
  RefusedFailure,
} from './errors.ts';
import { openConnection, type RawConnection } from './raw-http.ts';

const servers: (Server | HttpServer)[] = [];
const connections: RawConnection[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.destroy();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          (server as HttpServer).closeAllConnections?.();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A TCP server that hands every accepted socket (and each request head it receives) to `onRequest`. */
async function scriptedServer(onRequest: (socket: Socket, head: string) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        onRequest(socket, head);
      }
    });
  });
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  return listen(server);
}

/** A TCP server that hands every accepted socket to `onConnection` before anything is read. */
async function connectionServer(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  return listen(server);
}

function listen(server: Server | HttpServer): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function connect(port: number): Promise<RawConnection> {
  const connection = await openConnection(port);
  connections.push(connection);
  return connection;
}

describe('raw HTTP/1.1 over a TCP connection', () => {
  it('reads a Content-Length response with lowercased and joined headers, even when it arrives in pieces', async () => {
    const port = await scriptedServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Tag: a\r\n');
      setTimeout(() => socket.write('X-Tag: b\r\nContent-Length: 11\r\n\r\nhello'), 10);
      setTimeout(() => socket.write(' world'), 20);
    });
    const connection = await connect(port);
    const response = await connection.request({ path: '/' });
    expect(response).toMatchObject({
      httpVersion: '1.1',
      status: 200,
      statusText: 'OK',
      body: 'hello world',
      bodyBytes: 11,
      chunked: false,
      connectionClose: false,
      keepAlive: true,
    });
    expect(response.headers).toEqual({ 'content-type': 'text/plain', 'x-tag': 'a, b', 'content-length': '11' });
    expect(response.rawHeaders[0]).toEqual(['Content-Type', 'text/plain']);
    expect(connection.responsesRead).toBe(1);
    expect(connection.closedBy).toBeNull();
  });

  it('reads a chunked response with extensions and trailers, split across writes', async () => {
    const port = await scriptedServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n');
      setTimeout(() => socket.write('5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t'), 10);
      setTimeout(() => socket.write('\r\n\r\n'), 20);
    });
    const connection = await connect(port);
    const response = await connection.request();
    expect(response.chunked).toBe(true);
    expect(response.body).toBe('Wikipedia in\r\n\r\nchunks.');
    expect(response.keepAlive).toBe(true);
  });

  it('skips 100 Continue, reads HEAD and 204 without a body, and reads pipelined responses in order', async () => {
    let count = 0;
    const port = await scriptedServer((socket, head) => {
      count += 1;
      if (head.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n');
      else if (count === 1) socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nhi');
      else socket.write('HTTP/1.1 204 No Content\r\n\r\n');
    });
    const connection = await connect(port);
    connection.send('POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    const [first, second] = await Promise.all([connection.readResponse(), connection.readResponse()]);
    expect([first.status, first.body]).toEqual([201, 'hi']);
    expect([second.status, second.body]).toEqual([204, '']);
    const head = await connection.request({ method: 'HEAD' });
    expect([head.status, head.bodyBytes, head.headers['content-length']]).toEqual([200, 0, '99']);
  });

  it('reads a body delimited by the server closing, and reports that connection as not reusable', async () => {
    const port = await scriptedServer((socket) => {
      socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end');
    });
    const connection = await connect(port);
    const response = await connection.request();
    expect(response).toMatchObject({ httpVersion: '1.0', body: 'until the end', keepAlive: false });
    expect(await connection.waitForClose(5_000)).toBe('fin');
  });

  it('talks to node:http: keep-alive by default, Connection: close on request and a FIN after it', async () => {
    const server = createHttpServer((req, res) => res.end(`you asked for ${req.url}`));
    const port = await listen(server);
    const connection = await connect(port);
    const first = await connection.request({ path: '/one' });
    expect(first).toMatchObject({ status: 200, body: 'you asked for /one', keepAlive: true, connectionClose: false });
    const second = await connection.request({ path: '/two', headers: { Connection: 'close' } });
    expect(second).toMatchObject({ body: 'you asked for /two', keepAlive: false, connectionClose: true });
    expect(await connection.waitForClose(5_000)).toBe('fin');
    expect(connection.bytesRead).toBeGreaterThan(0);
    expect(connection.bytesWritten).toBeGreaterThan(0);
  });

  it("reports 'fin' when the server ends the socket", async () => {
    const port = await connectionServer((socket) => socket.end());
    const connection = await connect(port);
    expect(await connection.waitForClose(5_000)).toBe('fin');
    expect(connection).toMatchObject({ closedBy: 'fin', finReceived: true, resetReceived: false, closed: true });
  });

  it("reports 'reset' when the server resets the socket", async () => {
    // Reset once the client is surely connected: a RST that beats the client's connect callback is a
    // connect failure (ECONNRESET, nothing sent), not a reset of an open connection.
    const port = await connectionServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const connection = await connect(port);
    connection.send('ping');
    expect(await connection.waitForClose(5_000)).toBe('reset');
    expect(connection).toMatchObject({ closedBy: 'reset', finReceived: false, resetReceived: true, closed: true });
  });

  it("reports 'timeout' while the server keeps the connection open, and 'local' after this side closes it", async () => {
    const port = await connectionServer(() => {});
    const connection = await connect(port);
    expect(await connection.waitForClose(50)).toBe('timeout');
    connection.destroy();
    expect(await connection.waitForClose(5_000)).toBe('local');
  });

  it('throws AmbiguousFailure (closed-without-response) when the server closes without answering', async () => {
    const port = await scriptedServer((socket) => socket.destroy());
    const connection = await connect(port);
    const failure = await connection.request().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AmbiguousFailure);
    expect(failure).toMatchObject({ kind: 'closed-without-response', partialBytes: 0, code: 'QUIESCE_CONFORMANCE_AMBIGUOUS' });
  });

  it('throws AmbiguousFailure (reset) when the server resets the connection instead of answering', async () => {
    const port = await scriptedServer((socket) => socket.resetAndDestroy());
    const connection = await connect(port);
    const failure = await connection.request().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AmbiguousFailure);
    expect(failure).toMatchObject({ kind: 'reset' });
  });

  it('throws AmbiguousFailure with the partial byte count when the server dies mid-response', async () => {
    const port = await scriptedServer((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
    });
    const connection = await connect(port);
    const failure = await connection.request().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AmbiguousFailure);
    expect(failure).toMatchObject({ kind: 'closed-without-response' });
    expect((failure as AmbiguousFailure).partialBytes).toBeGreaterThan(30);
  });

  it('throws AmbiguousFailure (timeout) and drops the connection when no response comes in time', async () => {
    const port = await scriptedServer(() => {});
    const connection = await connect(port);
    const failure = await connection.request({ timeoutMs: 100 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AmbiguousFailure);
    expect(failure).toMatchObject({ kind: 'timeout' });
    expect(connection.closedBy).toBe('local');
  });

  it('refuses to write on a connection the server already closed (nothing sent, safe to retry)', async () => {
    const port = await connectionServer((socket) => socket.end());
    const connection = await connect(port);
    await connection.waitForClose(5_000);
    expect(() => connection.send('GET / HTTP/1.1\r\n\r\n')).toThrow(ConnectionClosedError);
    await expect(connection.request()).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('throws ProtocolFailure on bytes that are not HTTP', async () => {
    const port = await scriptedServer((socket) => socket.write('SSH-2.0-OpenSSH\r\n\r\n'));
    const connection = await connect(port);
    await expect(connection.request()).rejects.toBeInstanceOf(ProtocolFailure);
  });

  it('rejects with RefusedFailure, not AmbiguousFailure, when nothing listens', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const failure = await openConnection(port).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RefusedFailure);
    expect(failure).toMatchObject({ errno: 'ECONNREFUSED', code: 'QUIESCE_CONFORMANCE_REFUSED' });
  });

  it('rejects bad options with a HarnessOptionError naming the option', async () => {
    await expect(openConnection(0)).rejects.toThrow(HarnessOptionError);
    await expect(openConnection(80, '')).rejects.toMatchObject({ option: 'host' });
    await expect(openConnection(80, '127.0.0.1', { timeoutMs: -1 })).rejects.toMatchObject({ option: 'timeoutMs' });
  });
});
