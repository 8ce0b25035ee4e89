/**
 * @module
 * Graceful shutdown for Fastify 5 as a plugin. Register `fastifyQuiesce` and SIGTERM runs the whole
 * sequence — readiness 503 and `Connection: close` during a lame duck with the listener open, stop
 * accepting, drain (in-flight requests finish, idle keep-alive sockets close with FIN), shutdown
 * hooks, then `fastify.close()` with your `onClose` hooks, one deadline, a one-line report and an
 * honest exit code. A direct `fastify.close()` drains the same way. `/readyz` and `/healthz` are
 * ordinary routes, so your hooks apply to them.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { fastifyQuiesce } from '@quiesce/fastify';
 *
 * const app = Fastify();
 * await app.register(fastifyQuiesce, { lameDuckMs: 5_000 });
 * app.get('/', async () => 'hello\n');
 * await app.listen({ port: 3000, host: '127.0.0.1' });
 * ```
 */
export { FastifyQuiesceOptionError } from './errors.ts';
export { type FastifyQuiesceOptions, fastifyQuiesce } from './fastify-quiesce.ts';
