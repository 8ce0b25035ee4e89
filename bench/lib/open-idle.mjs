// Keep-alive connections left idle after one request each, for the parts that hold many (2 and 3).
import { openConnection } from './harness.mjs';

/**
 * Opens `count` raw keep-alive connections to `port` on 127.0.0.1, `batch` at a time, sends one
 * `GET /` on each and resolves with them once every response is read. `timeoutMs` bounds each
 * connect and each request (the harness default when left out).
 *
 * @example
 * const connections = await openIdleConnections(server.port, 1_000);
 * for (const c of connections) c.destroy();
 */
export async function openIdleConnections(port, count, { batch = 100, timeoutMs } = {}) {
  const timeout = timeoutMs === undefined ? {} : { timeoutMs };
  const connections = [];
  for (let i = 0; i < count; i += batch) {
    connections.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, async () => {
          const connection = await openConnection(port, '127.0.0.1', timeout);
          await connection.request({ path: '/', ...timeout });
          return connection;
        }),
      )),
    );
  }
  return connections;
}
