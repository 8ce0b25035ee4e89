import { EVENT_STREAM_HEADERS, tickEventStream } from './events.ts';
import { route } from './routes.ts';

/**
 * How a runtime opens the `/ws` echo for a request that asks to upgrade: the `Response` to return
 * (Deno), `undefined` when the runtime answers by itself (Bun, after `server.upgrade()`), or
 * `false` when it cannot (an inherited socket served through `node:http`).
 */
export type WebSocketUpgrader = (request: Request, context: unknown) => Response | undefined | false;

/** What the fetch handler needs besides readiness. */
export interface FetchHandlerOptions {
  /** The process id sent in `x-pid`. */
  readonly pid: number;
  /** Aborts when the drain starts: `/events` streams end then. */
  readonly drainStarted: AbortSignal;
  /** Opens the WebSocket echo (see {@link WebSocketUpgrader}). */
  readonly upgradeWebSocket: WebSocketUpgrader;
}

/**
 * The example's routes as a fetch handler (`Request` → `Response`), for `Bun.serve` and
 * `Deno.serve`. `/slow` waits with a plain timer: listening to `request.signal` makes Deno 2.9 warn
 * about its legacy abort behaviour on every request, and the deadline ends the process anyway.
 * `/events` streams until the drain starts; `/ws` upgrades through the runtime's `upgradeWebSocket`
 * (501 where the runtime cannot, 426 without an upgrade).
 *
 * @example
 * ```ts
 * const handler = createFetchHandler(() => ({ ready: true, live: true }), { pid: 1234, drainStarted: new AbortController().signal, upgradeWebSocket: () => false });
 * const response = await handler(new Request('http://x/healthz'), undefined); // 200
 * ```
 */
export function createFetchHandler(
  state: () => { ready: boolean; live: boolean },
  options: FetchHandlerOptions,
): (request: Request, context: unknown) => Response | undefined | Promise<Response> {
  const { pid, drainStarted, upgradeWebSocket } = options;
  const text = (status: number, body: string | null): Response =>
    new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-pid': String(pid) } });
  return (request: Request, context: unknown) => {
    const result = route(request.method, new URL(request.url), state());
    if (result.special === 'events') {
      const body = request.method === 'HEAD' ? null : tickEventStream(drainStarted);
      return new Response(body, { status: 200, headers: { ...EVENT_STREAM_HEADERS, 'x-pid': String(pid) } });
    }
    if (result.special === 'websocket' && request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
      const upgraded = upgradeWebSocket(request, context);
      return upgraded === false ? text(501, 'WebSockets are not served on an inherited socket on this runtime\n') : upgraded;
    }
    const body = request.method === 'HEAD' ? null : result.body;
    if (!result.delayMs) return text(result.status, body);
    return new Promise((resolve) => setTimeout(() => resolve(text(result.status, body)), result.delayMs));
  };
}
