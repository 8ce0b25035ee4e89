import { once } from 'node:events';
import { type RequestListener, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExpressOptionError } from './errors.ts';
import { livenessHandler, readinessHandler } from './health-handlers.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('health handlers', () => {
  it('readiness answers 200 "ready" while ready and 503 "shutting down" after, uncached', async () => {
    let ready = true;
    const url = await serve(readinessHandler({ isReady: () => ready }));
    const before = await fetch(url);
    expect(before.status).toBe(200);
    expect(await before.text()).toBe('ready\n');
    expect(before.headers.get('cache-control')).toBe('no-store');
    expect(before.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    ready = false;
    const after = await fetch(url);
    expect(after.status).toBe(503);
    expect(await after.text()).toBe('shutting down\n');
  });

  it('liveness answers 200 "ok" while live and 503 "stopping" after', async () => {
    let live = true;
    const url = await serve(livenessHandler({ isLive: () => live }));
    expect((await fetch(url)).status).toBe(200);
    live = false;
    const after = await fetch(url);
    expect(after.status).toBe(503);
    expect(await after.text()).toBe('stopping\n');
  });

  it('leaves a response alone whose headers were already sent', async () => {
    const handler = readinessHandler({ isReady: () => false });
    const url = await serve((req, res) => {
      res.writeHead(204).end();
      handler(req, res);
    });
    expect((await fetch(url)).status).toBe(204);
  });

  it('refuses something without isReady / isLive, naming the option', () => {
    for (const bad of [undefined, null, {}, { isReady: true }]) {
      expect(() => readinessHandler(bad as never)).toThrow(ExpressOptionError);
      expect(() => livenessHandler(bad as never)).toThrow(/Invalid lifecycle/);
    }
    let caught: unknown;
    try {
      readinessHandler({} as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'QUIESCE_EXPRESS_INVALID_OPTION', option: 'lifecycle', name: 'ExpressOptionError' });
  });
});
