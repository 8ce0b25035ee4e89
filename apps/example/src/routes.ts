/** What a route answers; the runtime-specific server turns it into a response. */
export interface RouteResult {
  readonly status: number;
  readonly body: string;
  /** Milliseconds to wait before answering (`/slow`). */
  readonly delayMs?: number;
  /**
   * `events`: answer with the Server-Sent Events stream (`/events`, see `events.ts`) instead of
   * `body`; `websocket`: the WebSocket echo (`/ws`), when the request asks to upgrade (else `body`,
   * 426).
   */
  readonly special?: 'events' | 'websocket';
}

/** Longest `/slow?ms=N` the example accepts (10 minutes). */
const MAX_SLOW_MS = 600_000;

/**
 * The example's routes, independent of the runtime: `GET /`, `GET /slow?ms=N`, `GET /healthz`,
 * `GET /readyz`, `GET /events` (Server-Sent Events) and `GET /ws` (a WebSocket echo; 426 without
 * an upgrade). Anything else is 404; a method other than GET/HEAD is 405.
 *
 * @example
 * ```ts
 * route('GET', new URL('http://x/slow?ms=100'), { ready: true, live: true }); // { status: 200, delayMs: 100, ... }
 * ```
 */
export function route(method: string, url: URL, state: { ready: boolean; live: boolean }): RouteResult {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: 'method not allowed\n' };
  switch (url.pathname) {
    case '/':
      return { status: 200, body: 'hello from quiesce\n' };
    case '/slow': {
      const raw = url.searchParams.get('ms') ?? '0';
      const ms = Number(raw);
      if (!/^\d+$/.test(raw) || ms > MAX_SLOW_MS) return { status: 400, body: `ms must be a whole number up to ${MAX_SLOW_MS}\n` };
      return { status: 200, body: `slept ${ms}ms\n`, delayMs: ms };
    }
    case '/healthz':
      return state.live ? { status: 200, body: 'ok\n' } : { status: 503, body: 'stopping\n' };
    case '/readyz':
      return state.ready ? { status: 200, body: 'ready\n' } : { status: 503, body: 'shutting down\n' };
    case '/events':
      return { status: 200, body: '', special: 'events' };
    case '/ws':
      return { status: 426, body: 'upgrade required: connect with a WebSocket client\n', special: 'websocket' };
    default:
      return { status: 404, body: 'not found\n' };
  }
}
