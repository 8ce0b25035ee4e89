/**
 * @module
 * Graceful shutdown for `Deno.serve`: every response carries `Connection: close` from the signal
 * on, the listener closes without losing a request that a keep-alive client is about to send, a
 * request stays in flight until Deno has delivered all of its response, and the deadline cuts what
 * is left through the server's abort signal (`shutdown()` alone never forces). Use it through
 * `quiesce`'s `createLifecycle` for the whole sequence.
 *
 * @example
 * ```ts
 * import { createLifecycle } from 'quiesce';
 * import { serveDeno } from '@quiesce/deno';
 *
 * const adapter = serveDeno({ port: 8000, hostname: '127.0.0.1', handler: () => new Response('ok\n') });
 * createLifecycle({ adapter, deadlineMs: 10_000 }).install();
 * ```
 */
export { type DenoAdapter, type DenoAdapterOptions, type DenoInheritedSocket, serveDeno } from './deno-adapter.ts';
export type {
  DenoHttpServer,
  DenoNetAddr,
  DenoServeCommonOptions,
  DenoServeHandler,
  DenoServeHandlerInfo,
  DenoServeOptions,
  DenoServeTcpOptions,
  DenoServeUnixOptions,
  DenoUnixAddr,
} from './deno-types.ts';
export { DenoAdapterOptionError, DenoRuntimeError, DenoUnsupportedOptionError, DenoWebSocketUnsupportedError } from './errors.ts';
export { type UpgradeWebSocketOptions, type WebSocketUpgrade, upgradeWebSocket } from './upgrade-websocket.ts';
