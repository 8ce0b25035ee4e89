import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

type WriteHead = ServerResponse['writeHead'];
const wrapped: unique symbol = Symbol('quiesce.connectionClose');

/**
 * Makes `res` carry `Connection: close`, and its socket close after it, if its headers are still
 * to be written: the decision is taken when they are written, so a response that started before
 * the signal but is sent after it still tells the client not to reuse the socket. A `Connection`
 * header the handler set itself is overridden. `onClose` is called when the header goes out.
 * Applied once per response; later calls do nothing.
 */
export function closeConnectionAfter(res: ServerResponse, onClose?: () => void): void {
  const marked = res as ServerResponse & { [wrapped]?: true };
  if (marked[wrapped]) return;
  marked[wrapped] = true;
  const original = res.writeHead as (...args: unknown[]) => ServerResponse;
  const writeHead = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
    if (!this.headersSent) {
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
