/**
 * @module
 * `quiesce/node`: the Node adapter (`@quiesce/node`) for `node:http` / `node:https` servers and the
 * frameworks built on them, re-exported so that one install is enough.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createLifecycle } from 'quiesce';
 * import { createNodeAdapter } from 'quiesce/node';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * createLifecycle({ adapter: createNodeAdapter(server) }).install();
 * server.listen(3000, '127.0.0.1');
 * ```
 */
export {
  type FetchHandler,
  type FetchListenerOptions,
  type FetchRequestInfo,
  type NodeAdapter,
  NodeAdapterOptionError,
  type NodeAdapterOptions,
  type NodeHttpServer,
  createFetchListener,
  createNodeAdapter,
  type WebSocketLike,
  type WebSocketServerLike,
} from '@quiesce/node';
