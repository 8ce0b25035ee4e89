import { route } from './routes.ts';

/**
 * The example's routes as a fetch handler (`Request` → `Response`), for `Bun.serve` and
 * `Deno.serve`. `/slow` waits with a plain timer: listening to `request.signal` makes Deno 2.9 warn
 * about its legacy abort behaviour on every request, and the deadline ends the process anyway.
 *
 * @example
 * ```ts
 * const handler = createFetchHandler(() => ({ ready: true, live: true }), 1234);
 * const response = await handler(new Request('http://x/healthz')); // 200
 * ```
 */
export function createFetchHandler(
  state: () => { ready: boolean; live: boolean },
  pid: number,
): (request: Request) => Promise<Response> {
  return async (request: Request): Promise<Response> => {
    const result = route(request.method, new URL(request.url), state());
    if (result.delayMs) await new Promise((resolve) => setTimeout(resolve, result.delayMs));
    const body = request.method === 'HEAD' ? null : result.body;
    return new Response(body, {
      status: result.status,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-pid': String(pid) },
    });
  };
}
