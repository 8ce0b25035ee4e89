import type { ServerAdapter } from '@quiesce/drain';
import { type NodeAdapter, type NodeAdapterOptions, type NodeHttpServer, createNodeAdapter } from '@quiesce/node';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { type Lifecycle, type LifecycleOptions, createLifecycle } from 'quiesce';
import { FastifyQuiesceOptionError, check } from './errors.ts';
import { warnAboutExtraAddresses } from './internal/address-check.ts';
import { registerHealthRoutes } from './internal/health-routes.ts';
import { resolveOptions } from './internal/options.ts';

/**
 * Options for {@link fastifyQuiesce}: the lifecycle's, every setting of the Node adapter
 * (`idleGraceMs`, `preconnectGraceMs`, `holdMaxMs`, `tcpKeepAliveMs`, `clock` …: `clock` drives the
 * lifecycle and the adapter alike), and the plugin's own.
 */
export interface FastifyQuiesceOptions extends Omit<LifecycleOptions, 'adapter'>, Omit<NodeAdapterOptions, 'listener'> {
  /** Route answering `200 ready` while serving and `503 shutting down` from the signal on. Default `/readyz`; `false` for none. */
  readinessPath?: string | false;
  /** Route answering `200 ok` until the process is about to exit. Default `/healthz`; `false` for none. */
  livenessPath?: string | false;
  /**
   * Install the signal policy (SIGTERM / SIGINT / SIGHUP drain, close Fastify and exit; a second
   * signal exits at once) when the server listens. Default `true`.
   */
  handleSignals?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The Quiesce lifecycle of this server: readiness, shutdown and cleanup hooks, `shutdown()`. */
    quiesce: Lifecycle;
  }
}

const quiescePlugin = async (fastify: FastifyInstance, options: FastifyQuiesceOptions): Promise<void> => {
  const config = resolveOptions(options);
  let node: NodeAdapter;
  try {
    node = createNodeAdapter(fastify.server as NodeHttpServer, config.node);
  } catch (error) {
    throw check.adopt(error);
  }
  const adapter: ServerAdapter = { ...node, name: 'fastify' };
  let lifecycle: Lifecycle;
  try {
    lifecycle = createLifecycle({ ...config.lifecycle, adapter });
  } catch (error) {
    node.dispose();
    throw check.adopt(error);
  }

  // Fastify may close once the drain is over, i.e. when the cleanup phase starts. Its close() then
  // finds no connection left, so forceCloseConnections and return503OnClosing have nothing to act on.
  let drainOver: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    drainOver = resolve;
  });
  let reachOnClose: () => void = () => {};
  const onCloseReached = new Promise<void>((resolve) => {
    reachOnClose = resolve;
  });
  // Who closes Fastify: the lifecycle (signal path, in its cleanup phase) or the app (a direct close()).
  let closedByLifecycle = false;
  let closedByApp = false;

  lifecycle.onCleanup('fastify.close', async () => {
    drainOver();
    if (closedByApp) {
      // The app's own close() is under way, held in preClose until now: wait for its onClose hooks.
      await onCloseReached;
      return;
    }
    closedByLifecycle = true;
    // Runs the app's preClose and onClose hooks.
    await fastify.close();
  });

  // fastify.close() called directly (tests, listen({ signal }), another plugin): Fastify has set its
  // closing flag; hold its server.close() (which would drop idle keep-alive sockets at once) until
  // the Quiesce drain is over.
  fastify.addHook('preClose', async () => {
    if (!closedByLifecycle) {
      // A server that never listened (inject-only tests) has nothing to drain: no lame duck to wait.
      if (lifecycle.state === 'serving' && !fastify.server.listening) return;
      closedByApp = true;
    }
    await Promise.race([drained, lifecycle.shutdown('fastify.close()')]);
  });

  // Registered with the plugin, so it runs after the onClose hooks registered later (Fastify runs
  // them last-in first-out). After a direct close(), it waits for the report, so that
  // `await fastify.close()` returns with `fastify.quiesce.report` written.
  fastify.addHook('onClose', async () => {
    reachOnClose();
    if (closedByApp) await lifecycle.shutdown();
  });

  fastify.addHook('onListen', async () => {
    warnAboutExtraAddresses(fastify);
    if (config.handleSignals) lifecycle.install();
  });

  registerHealthRoutes(fastify, lifecycle, config);
  fastify.decorate('quiesce', lifecycle);
};

/**
 * The Quiesce plugin for Fastify 5: the whole graceful-shutdown sequence tied to `fastify.close()`.
 * On SIGTERM (installed when the server listens): `/readyz` answers 503 and every response carries
 * `Connection: close` while the listener stays open for `lameDuckMs`; then the listener closes,
 * in-flight requests finish, idle keep-alive sockets close with FIN and `fastify.quiesce.onShutdown`
 * hooks run; then `fastify.close()` runs your `preClose` / `onClose` hooks (in the cleanup reserve);
 * at `deadlineMs` whatever is left is cut and the exit code is 1. A direct `fastify.close()` runs
 * the same sequence from its `preClose` step (see the README for how Fastify's
 * `return503OnClosing` and `forceCloseConnections` combine with it).
 *
 * Decorates the instance with `quiesce` (the {@link Lifecycle}). Bad options make `register()` fail
 * with a {@link FastifyQuiesceOptionError} naming the option.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { fastifyQuiesce } from '@quiesce/fastify';
 *
 * const app = Fastify();
 * await app.register(fastifyQuiesce, { lameDuckMs: 5_000, deadlineMs: 20_000 });
 * app.addHook('onClose', async () => console.log('closed')); // runs after the drain
 * app.get('/', async () => 'hello\n');
 * await app.listen({ port: 3000, host: '0.0.0.0' });
 * ```
 */
export const fastifyQuiesce: FastifyPluginAsync<FastifyQuiesceOptions> = fastifyPlugin(quiescePlugin, {
  fastify: '5.x',
  name: '@quiesce/fastify',
});
