import type { IncomingMessage, ServerResponse } from 'node:http';
import { check } from './errors.ts';

/** Where a request came from, for a fetch handler served on `node:http`. */
export interface FetchRequestInfo {
  /** The peer's address, e.g. `127.0.0.1` (undefined once the socket is gone). */
  readonly remoteAddress: string | undefined;
  /** The peer's port. */
  readonly remotePort: number | undefined;
  /** Resolves once the response is written out or the connection is gone. */
  readonly completed: Promise<void>;
}

/** A web-standard request handler, as `Bun.serve` and `Deno.serve` take. */
export type FetchHandler = (request: Request, info: FetchRequestInfo) => Response | Promise<Response>;

/** Options for {@link createFetchListener}. */
export interface FetchListenerOptions {
  /**
   * The response when the handler throws or resolves to something that is not a `Response`.
   * Default: a plain 500 (the error goes to `console.error`).
   */
  onError?: (error: unknown, request: Request) => Response | Promise<Response>;
}

const BODYLESS = new Set(['GET', 'HEAD']);

/**
 * Serves a web-standard `fetch` handler on a `node:http` server: the request becomes a `Request`
 * (body streamed, `signal` aborted when the client goes away), the `Response` is written with
 * `writeHead` (so the Node adapter's `Connection: close` applies) and its body streamed with
 * backpressure. This is how `@quiesce/bun` and `@quiesce/deno` serve an inherited socket, which
 * `Bun.serve` and `Deno.serve` cannot adopt. Throws {@link NodeAdapterOptionError} on bad options.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createFetchListener } from '@quiesce/node';
 *
 * const server = createServer(createFetchListener((request) => new Response(`hello ${new URL(request.url).pathname}\n`)));
 * server.listen(3000, '127.0.0.1');
 * ```
 */
export function createFetchListener(
  handler: FetchHandler,
  options: FetchListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  check.function('handler', handler, 'a function (request, info) => Response');
  check.object('options', options);
  const { onError } = options;
  if (onError !== undefined) check.function('onError', onError, 'a function (error, request) => Response');
  const fail = async (error: unknown, request: Request): Promise<Response> => {
    if (onError) {
      try {
        const page = await onError(error, request);
        if (page instanceof Response) return page;
      } catch (again) {
        console.error(again);
      }
    } else console.error(error);
    return new Response('Internal Server Error\n', { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  };

  return (req, res) => {
    const aborted = new AbortController();
    let done = false;
    const completed = new Promise<void>((resolve) => {
      res.once('close', () => {
        done = true;
        if (!res.writableFinished) aborted.abort(new Error('the client went away before the response was complete'));
        resolve();
      });
    });
    const request = toRequest(req, aborted.signal);
    const info: FetchRequestInfo = { remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, completed };
    const respond = async (): Promise<void> => {
      let response: unknown;
      try {
        response = await handler(request, info);
        if (!(response instanceof Response)) throw new TypeError(`the fetch handler returned ${typeof response}, not a Response`);
      } catch (error) {
        response = await fail(error, request);
      }
      if (done) return;
      await write(response as Response, res, aborted.signal);
    };
    respond().catch((error: unknown) => {
      // Writing failed half-way (the socket broke): nothing more can be sent.
      if (!res.destroyed) res.destroy(error as Error);
    });
  };
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const method = req.method ?? 'GET';
  const host = req.headers.host ?? `${req.socket.localAddress ?? 'localhost'}:${req.socket.localPort ?? 80}`;
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (!BODYLESS.has(method)) {
    init.body = readableOf(req);
    init.duplex = 'half';
  }
  return new Request(`${scheme}://${host}${req.url ?? '/'}`, init);
}

/** The request body as a web stream, with backpressure (the socket pauses while the stream is full). */
function readableOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller): void {
      req.on('data', (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      });
      req.once('end', () => controller.close());
      req.once('error', (error) => controller.error(error));
    },
    pull(): void {
      req.resume();
    },
    cancel(): void {
      req.resume(); // read and drop the rest, so the connection can carry the next request
    },
  });
}

async function write(response: Response, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const headers: string[] = [];
  for (const [name, value] of response.headers) headers.push(name, value);
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const stop = (): void => {
    void reader.cancel().catch(() => {});
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
      if (res.destroyed) return;
    }
    res.end();
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
