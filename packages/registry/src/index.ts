/**
 * @module
 * Service-registry registration that shutdown can rely on. `register` once the server is ready,
 * a keep-alive loop while it serves (re-registering when the registry lost the entry), `deregister`
 * at the start of the lame duck, `close` at the end. Every call is bounded by its own timeout and
 * the `AbortSignal` it is given, resolves to a result with its outcome and duration, and never
 * rejects: a registry that is down or hung cannot hold up shutdown. etcd v3 (JSON gateway) and
 * Consul (agent API) over `fetch`; web-standard APIs only, so it runs on Node, Bun and Deno.
 *
 * Hand the registry to the lifecycle with `lifecycle.useRegistry(registry)`: it deregisters during
 * the lame duck and closes in the cleanup reserve, and a call that fails or times out shows in the
 * shutdown report. A hook that only returns `registry.deregister()` would hide that failure,
 * because registry calls resolve with their outcome instead of rejecting.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createLifecycle } from 'quiesce';
 * import { createNodeAdapter } from 'quiesce/node';
 * import { createEtcdRegistry } from '@quiesce/registry';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * const lifecycle = createLifecycle({ adapter: createNodeAdapter(server), lameDuckMs: 5_000 });
 * const registry = createEtcdRegistry({ endpoints: ['http://127.0.0.1:2379'] });
 * lifecycle.useRegistry(registry); // deregister in the lame duck, close at the end, failures reported
 * server.listen(3000, '127.0.0.1', async () => {
 *   lifecycle.install();
 *   await registry.register({ service: 'api', host: '127.0.0.1', port: 3000 });
 * });
 * ```
 */
export { type ConsulRegistryOptions, createConsulRegistry } from './consul-registry.ts';
export { type EtcdRegistryOptions, createEtcdRegistry } from './etcd-registry.ts';
export {
  RegistryEnvError,
  RegistryOptionError,
  RegistryRequestError,
  RegistryStateError,
  RegistryTimeoutError,
  RegistryUnavailableError,
} from './errors.ts';
export { type RegistryFromEnvOptions, registryFromEnv } from './registry-from-env.ts';
export type {
  FetchFunction,
  RegistryCallOptions,
  RegistryOperation,
  RegistryOptions,
  RegistryOutcome,
  RegistryResult,
  RegistryState,
  ServiceInstance,
  ServiceRegistry,
} from './service-registry.ts';
