import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lifecycle } from 'quiesce';
import { ExpressOptionError } from './errors.ts';

/**
 * A request handler for a health endpoint. Mount it like any route handler
 * (`app.get('/readyz', handler)`): the app's own middleware (CORS, auth, logging) runs first.
 */
export type HealthHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A readiness handler: `200 ready` while the service is serving, `503 shutting down` from the
 * first signal on, so load balancers stop routing here during the lame duck. Plain text,
 * `Cache-Control: no-store`. Throws {@link ExpressOptionError} unless given something with `isReady()`.
 *
 * @example
 * ```ts
 * const lifecycle = createLifecycle({ adapter: createNodeAdapter(server) });
 * app.get('/readyz', readinessHandler(lifecycle));
 * ```
 */
export function readinessHandler(lifecycle: Pick<Lifecycle, 'isReady'>): HealthHandler {
  if (!lifecycle || typeof lifecycle.isReady !== 'function') {
    throw new ExpressOptionError('lifecycle', lifecycle, 'a lifecycle with isReady() (from createLifecycle or createExpressLifecycle)');
  }
  return (_req, res) => {
    if (lifecycle.isReady()) send(res, 200, 'ready\n');
    else send(res, 503, 'shutting down\n');
  };
}

/**
 * A liveness handler: `200 ok` until the process is about to exit (a drain is not a reason for an
 * orchestrator to restart the process), then `503 stopping`. Plain text, `Cache-Control: no-store`.
 * Throws {@link ExpressOptionError} unless given something with `isLive()`.
 *
 * @example
 * ```ts
 * app.get('/healthz', livenessHandler(lifecycle));
 * ```
 */
export function livenessHandler(lifecycle: Pick<Lifecycle, 'isLive'>): HealthHandler {
  if (!lifecycle || typeof lifecycle.isLive !== 'function') {
    throw new ExpressOptionError('lifecycle', lifecycle, 'a lifecycle with isLive() (from createLifecycle or createExpressLifecycle)');
  }
  return (_req, res) => {
    if (lifecycle.isLive()) send(res, 200, 'ok\n');
    else send(res, 503, 'stopping\n');
  };
}

// Node's own response API, so the handlers behave the same on Express 4 and 5.
function send(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}
