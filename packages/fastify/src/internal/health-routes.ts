import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Lifecycle } from 'quiesce';

/**
 * Registers `GET` (and Fastify's automatic `HEAD`) routes for readiness and liveness on `fastify`.
 * They are ordinary routes, so the application's hooks (onRequest: CORS, auth, logging) run on them.
 */
export function registerHealthRoutes(
  fastify: FastifyInstance,
  lifecycle: Lifecycle,
  paths: { readinessPath: string | false; livenessPath: string | false },
): void {
  if (paths.readinessPath !== false) {
    fastify.get(paths.readinessPath, (_request, reply) => {
      if (lifecycle.isReady()) send(reply, 200, 'ready\n');
      else send(reply, 503, 'shutting down\n');
    });
  }
  if (paths.livenessPath !== false) {
    fastify.get(paths.livenessPath, (_request, reply) => {
      if (lifecycle.isLive()) send(reply, 200, 'ok\n');
      else send(reply, 503, 'stopping\n');
    });
  }
}

function send(reply: FastifyReply, status: number, body: string): void {
  void reply.code(status).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(body);
}
