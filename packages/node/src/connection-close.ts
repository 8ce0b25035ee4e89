import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

type WriteHead = ServerResponse['writeHead'];
const wrapped = new WeakSet<ServerResponse>();

/**
 * Makes `res` carry `Connection: close` (and close its socket afterwards) if, when its headers are
 * written, `closing()` is true. Deciding at header time, not at request time, means a response that
 * started before the signal but is sent after it still tells the client not to reuse the socket.
 * A `Connection` header the handler set itself is overridden while closing.
 */
export function closeConnectionWhenClosing(res: ServerResponse, closing: () => boolean, onClose?: () => void): void {
  if (wrapped.has(res)) return;
  wrapped.add(res);
  const original = res.writeHead as (...args: unknown[]) => ServerResponse;
  const writeHead = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (closing() && !this.headersSent) {
      this.shouldKeepAlive = false;
      for (let i = 1; i < args.length; i++) args[i] = withoutConnection(args[i]);
      this.setHeader('Connection', 'close');
      onClose?.();
    }
    return original.apply(this, args);
  };
  res.writeHead = writeHead as WriteHead;
}

function withoutConnection(headers: unknown): unknown {
  if (Array.isArray(headers)) {
    // Flat [name, value, name, value] or [[name, value], ...].
    if (headers.length > 0 && Array.isArray(headers[0])) {
      return headers.filter((pair: unknown[]) => String(pair[0]).toLowerCase() !== 'connection');
    }
    const out: unknown[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() !== 'connection') out.push(headers[i], headers[i + 1]);
    }
    return out;
  }
  if (headers !== null && typeof headers === 'object') {
    const out: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
      if (name.toLowerCase() !== 'connection') out[name] = value;
    }
    return out;
  }
  return headers; // the status message string
}
