/** Seconds a refused upgrade is told to wait before it tries again (by then another instance serves). */
export const REFUSED_UPGRADE_RETRY_AFTER_S = 1;

const BODY = 'service unavailable: shutting down\n';

/**
 * The answer to an upgrade request (a WebSocket) that reaches a server whose WebSockets are being
 * closed (the listener has closed, or is about to), on a keep-alive connection that is still open:
 * `503 Service Unavailable` with `Retry-After` and `Connection: close`, so the client reconnects to
 * another instance instead of opening a WebSocket that would be closed at once, or hanging.
 *
 * @example
 * ```ts
 * if (draining && isUpgradeRequest(request)) return refusedUpgradeResponse();
 * ```
 */
export function refusedUpgradeResponse(): Response {
  return new Response(BODY, {
    status: 503,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'retry-after': String(REFUSED_UPGRADE_RETRY_AFTER_S),
      connection: 'close',
    },
  });
}

/**
 * The same answer as raw HTTP/1.1, for runtimes that hand over an upgrade request's socket
 * (`node:http`'s `upgrade` event): write it, then end the socket.
 */
export const REFUSED_UPGRADE_HTTP: string =
  'HTTP/1.1 503 Service Unavailable\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\n' +
  `Retry-After: ${REFUSED_UPGRADE_RETRY_AFTER_S}\r\n` +
  'Connection: close\r\n' +
  `Content-Length: ${BODY.length}\r\n` +
  '\r\n' +
  BODY;

/** True for a request that asks to switch protocols (`Upgrade: websocket` and the like). */
export function isUpgradeRequest(request: Request): boolean {
  return request.headers.has('upgrade');
}
