/**
 * Returns `response` carrying `Connection: close`, replacing any `Connection` header the handler
 * set. Responses with immutable headers (`Response.redirect()`, a `fetch()` result) are copied
 * first; `101 Switching Protocols` and `Response.error()` are returned untouched. Adapters of
 * fetch-style servers (Bun, Deno) call it on every response while `tracker.closing` is true.
 *
 * @example
 * ```ts
 * const response = withConnectionClose(new Response('ok'));
 * response.headers.get('connection'); // "close"
 * ```
 */
export function withConnectionClose(response: Response): Response {
  if (response.status === 101 || response.type === 'error') return response;
  try {
    response.headers.set('connection', 'close');
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set('connection', 'close');
    return copy;
  }
}
