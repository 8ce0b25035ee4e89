/**
 * @module
 * Graceful shutdown for `Bun.serve`: every response carries `Connection: close` from the signal on,
 * the listener closes without losing a request that a keep-alive client is about to send, a request
 * stays in flight until Bun has written all of its response, WebSockets are tracked as upgraded
 * connections, and the deadline cuts what is left with `server.stop(true)`. Use it through
 * `quiesce`'s `createLifecycle` for the whole sequence.
 *
 * @example
 * ```ts
 * import { createLifecycle } from 'quiesce';
 * import { serveBun } from '@quiesce/bun';
 *
 * const adapter = serveBun({ port: 3000, hostname: '127.0.0.1', fetch: () => new Response('ok\n') });
 * createLifecycle({ adapter, deadlineMs: 10_000 }).install();
 * console.log(`listening on ${adapter.server?.url}`);
 * ```
 */
export { type BunAdapter, type BunAdapterOptions, type BunInheritedSocket, type BunServeOptions, serveBun } from './bun-adapter.ts';
export { BunAdapterOptionError, BunRuntimeError, BunUnsupportedOptionError } from './errors.ts';
