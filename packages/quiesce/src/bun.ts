/**
 * @module
 * `quiesce/bun`: the `Bun.serve` adapter (`@quiesce/bun`), re-exported so that one install serves
 * every runtime. `serveBun` takes the options of `Bun.serve` unchanged and drives the same graceful
 * contract as `quiesce/node`.
 *
 * @example
 * ```ts
 * import { createLifecycle } from 'quiesce';
 * import { serveBun } from 'quiesce/bun';
 *
 * const adapter = serveBun({ port: 3000, hostname: '127.0.0.1', fetch: () => new Response('ok\n') });
 * createLifecycle({ adapter }).install();
 * ```
 */
export {
  type BunAdapter,
  BunAdapterOptionError,
  type BunAdapterOptions,
  type BunInheritedSocket,
  BunRuntimeError,
  type BunServeOptions,
  BunUnsupportedOptionError,
  serveBun,
} from '@quiesce/bun';
