/**
 * @module
 * `quiesce/deno`: the `Deno.serve` adapter (`@quiesce/deno`), re-exported so that one install serves
 * every runtime. `serveDeno` takes the options of `Deno.serve` unchanged and drives the same graceful
 * contract as `quiesce/node`.
 *
 * @example
 * ```ts
 * import { createLifecycle } from 'quiesce';
 * import { serveDeno } from 'quiesce/deno';
 *
 * const adapter = serveDeno({ port: 3000, hostname: '127.0.0.1', handler: () => new Response('ok\n') });
 * createLifecycle({ adapter }).install();
 * ```
 */
export {
  type DenoAdapter,
  DenoAdapterOptionError,
  type DenoAdapterOptions,
  type DenoHttpServer,
  type DenoInheritedSocket,
  type DenoNetAddr,
  DenoRuntimeError,
  type DenoServeCommonOptions,
  type DenoServeHandler,
  type DenoServeHandlerInfo,
  type DenoServeOptions,
  type DenoServeTcpOptions,
  type DenoServeUnixOptions,
  type DenoUnixAddr,
  DenoUnsupportedOptionError,
  DenoWebSocketUnsupportedError,
  serveDeno,
  type UpgradeWebSocketOptions,
  upgradeWebSocket,
  type WebSocketUpgrade,
} from '@quiesce/deno';
