/**
 * @module
 * Graceful shutdown for Express 4 and 5 in one line. `createExpressLifecycle` takes the app (and
 * creates the server itself in `listen()`, wrapped before it accepts anything) or the `http.Server`
 * from `app.listen()`, and returns the whole Quiesce lifecycle: a lame duck with readiness false and
 * `Connection: close` on every response, a drain that lets in-flight requests finish and closes idle
 * keep-alive sockets with FIN, shutdown and cleanup hooks, one deadline, a one-line report and an
 * honest exit code. Its `readiness` / `liveness` handlers are mounted like any route, so the app's
 * own middleware applies to them.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createExpressLifecycle } from '@quiesce/express';
 *
 * const app = express();
 * const lifecycle = createExpressLifecycle(app, { lameDuckMs: 5_000 });
 * app.get('/readyz', lifecycle.readiness);
 * app.get('/healthz', lifecycle.liveness);
 * app.get('/', (req, res) => res.send('hello\n'));
 * lifecycle.listen(3000, () => console.log('listening on http://127.0.0.1:3000'));
 * ```
 */
export { ExpressOptionError, ExpressStateError } from './errors.ts';
export {
  type ExpressApp,
  type ExpressAppLifecycle,
  type ExpressLifecycle,
  type ExpressLifecycleOptions,
  type ListenCallback,
  createExpressLifecycle,
} from './express-lifecycle.ts';
export { type HealthHandler, livenessHandler, readinessHandler } from './health-handlers.ts';
