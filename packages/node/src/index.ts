/**
 * @module
 * Graceful shutdown for `node:http` and `node:https` servers, including those created by Express,
 * Fastify and Koa: socket and request accounting, `Connection: close` decided at header time, a
 * listener close that leaves open connections alone, upgraded sockets tracked apart, and the
 * WebSockets of `ws` closed with 1001 (1012 for a restart) once the listener has closed.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createNodeAdapter } from '@quiesce/node';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * const adapter = createNodeAdapter(server);
 * server.listen(3000, '127.0.0.1');
 * ```
 */
export { NodeAdapterOptionError } from './errors.ts';
export { type FetchHandler, type FetchListenerOptions, type FetchRequestInfo, createFetchListener } from './fetch-listener.ts';
export { type NodeAdapter, type NodeAdapterOptions, type NodeHttpServer, createNodeAdapter } from './node-adapter.ts';
export type { WebSocketLike, WebSocketServerLike } from './websocket-servers.ts';
