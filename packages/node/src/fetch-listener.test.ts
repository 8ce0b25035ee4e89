import { once } from 'node:events';
import { type IncomingMessage, type Server, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeAdapterOptionError } from './errors.ts';
import { type FetchHandler, type FetchListenerOptions, createFetchListener } from './fetch-listener.ts';
import { createNodeAdapter } from './node-adapter.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: FetchHandler, options?: FetchListenerOptions): Promise<{ server: Server; port: number }> {
  const server = createServer(createFetchListener(handler, options));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

interface Reply {
  status: number;
  statusMessage: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: string;
}

function send(port: number, options: { method?: string; path?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, rawHeaders: res.rawHeaders, body }),
      );
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(options.body);
  });
}

describe('createFetchListener', () => {
  it('turns the request into a Request (method, URL with host, headers, streamed body) and writes the Response back', async () => {
    const { port } = await serve(async (request) => {
      const body = await request.text();
      return Response.json(
        { method: request.method, url: request.url, custom: request.headers.get('x-custom'), body },
        { status: 201, statusText: 'Made', headers: { 'x-reply': 'yes' } },
      );
    });
    const reply = await send(port, { method: 'POST', path: '/a/b?c=1', body: 'hello body', headers: { 'x-custom': 'v', host: 'example.test' } });
    expect(reply.status).toBe(201);
    expect(reply.statusMessage).toBe('Made');
    expect(reply.headers['x-reply']).toBe('yes');
    expect(JSON.parse(reply.body)).toEqual({ method: 'POST', url: 'http://example.test/a/b?c=1', custom: 'v', body: 'hello body' });
  });

  it('keeps several Set-Cookie headers apart', async () => {
    const { port } = await serve(() => {
      const headers = new Headers();
      headers.append('set-cookie', 'a=1; Path=/');
      headers.append('set-cookie', 'b=2; Path=/');
      return new Response('ok', { headers });
    });
    const reply = await send(port);
    expect(reply.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  });

  it('streams a body chunk by chunk, and answers HEAD without one', async () => {
    const chunks = ['one ', 'two ', 'three'];
    const handler: FetchHandler = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            const next = chunks.shift();
            if (next === undefined) return controller.close();
            await new Promise((resolve) => setTimeout(resolve, 5));
            controller.enqueue(new TextEncoder().encode(next));
          },
        }),
      );
    const { port } = await serve(handler);
    expect((await send(port)).body).toBe('one two three');
    const { port: headPort } = await serve(() => new Response('body', { headers: { 'content-length': '4' } }));
    const head = await send(headPort, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('gives the handler the peer address and a completed promise that settles once the response is out', async () => {
    let completed: Promise<void> | undefined;
    let peer: string | undefined;
    const { port } = await serve((_request, info) => {
      completed = info.completed;
      peer = info.remoteAddress;
      return new Response('ok');
    });
    await send(port);
    expect(peer).toBe('127.0.0.1');
    await expect(completed).resolves.toBeUndefined();
  });

  it('aborts request.signal when the client goes away before the response', async () => {
    let aborted: Promise<unknown> | undefined;
    const { port } = await serve((request) => {
      aborted = new Promise((resolve) => request.signal.addEventListener('abort', () => resolve(request.signal.reason), { once: true }));
      return new Promise<Response>(() => {}); // never answers
    });
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false });
    req.once('error', () => {});
    req.end();
    while (!aborted) await new Promise((resolve) => setTimeout(resolve, 10));
    req.destroy();
    await expect(aborted).resolves.toBeInstanceOf(Error);
  });

  it('answers 500 when the handler throws or returns no Response, and onError can answer instead', async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (error: unknown) => errors.push(error);
    try {
      const { port } = await serve(() => {
        throw new Error('boom');
      });
      const reply = await send(port);
      expect(reply.status).toBe(500);
      expect(errors).toEqual([expect.objectContaining({ message: 'boom' })]);
      const { port: wrongPort } = await serve(() => 'not a response' as never);
      expect((await send(wrongPort)).status).toBe(500);
      expect(String(errors[1])).toMatch(/returned string, not a Response/);
    } finally {
      console.error = original;
    }
    const { port } = await serve(
      () => Promise.reject(new Error('nope')),
      { onError: (error) => new Response(`sorry: ${(error as Error).message}`, { status: 503 }) },
    );
    const reply = await send(port);
    expect(reply.status).toBe(503);
    expect(reply.body).toBe('sorry: nope');
  });

  it('with the Node adapter, a fetch response carries Connection: close once shutdown began', async () => {
    const server = createServer(createFetchListener(() => new Response('ok', { headers: { connection: 'keep-alive' } })));
    servers.push(server);
    const adapter = createNodeAdapter(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    expect((await send(port, { headers: { connection: 'keep-alive' } })).headers['connection']).toBe('keep-alive');
    adapter.beginShutdown();
    const reply = await send(port, { headers: { connection: 'keep-alive' } });
    expect(reply.headers['connection']).toBe('close');
    expect(reply.rawHeaders.filter((name) => name.toLowerCase() === 'connection')).toHaveLength(1);
    adapter.dispose();
  });

  it.each([
    ['handler', 'not a function', undefined],
    ['options', () => new Response(), null],
    ['onError', () => new Response(), { onError: 5 }],
  ])('rejects a bad %s with an error naming it', (option, handler, options) => {
    const attempt = () => createFetchListener(handler as never, options as never);
    expect(attempt).toThrow(NodeAdapterOptionError);
    expect(attempt).toThrow(new RegExp(`^Invalid ${option}: `));
  });
});
