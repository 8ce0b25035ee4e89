import { connect as connectTls } from 'node:tls';
import {
  type Http2FrameClient,
  capabilities,
  isUnderTest,
  killAllChildren,
  openHttp2Frames,
  type ServerHandle,
  type SelfSignedCertificate,
  selfSignedCertificate,
  startServer,
} from '@quiesce/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../harness/index.ts';

// Pins: what each runtime's own HTTP/2 server does, without Quiesce, that the HTTP/2 drain is built
// on (packages/node/src/http2-sessions.ts, packages/deno/src/internal/http2-requests.ts), compared
// with what capabilities() declares for the version under test. A runtime upgrade that changes one
// turns its test red: then update the capability (packages/test-support/src/capabilities.ts), the
// adapter that depends on it, and its README.

const MAX_STREAM_ID = 2 ** 31 - 1;
const READY = /listening on (https?:\/\/\S+)/;
const tls = { TLS_KEY: '', TLS_CERT: '' };
let certificate: SelfSignedCertificate | undefined;
let server: ServerHandle | undefined;
const clients: Http2FrameClient[] = [];

beforeAll(() => {
  certificate = selfSignedCertificate();
  Object.assign(tls, certificate.env);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server?.stop();
  server = undefined;
});

afterAll(() => {
  killAllChildren();
  certificate?.dispose();
});

async function raw(url: string): Promise<Http2FrameClient> {
  const client = await openHttp2Frames(url);
  clients.push(client);
  return client;
}

describe.skipIf(!isUnderTest('node'))(`pins Node ${isUnderTest('node') ? capabilities('node').version : ''}: node:http2`, () => {
  const can = isUnderTest('node') ? capabilities('node') : undefined;
  it(`a stream the client opens after the server's GOAWAY(2^31-1) is ${can?.http2ServesStreamsAfterNotice ? 'served' : 'ignored (nghttp2 accepts no stream once it sent any GOAWAY), while one opened before is served'}`, async () => {
    server = await startServer({ runtime: 'node', script: fixturePath('node-http2-probe.mjs'), readyPattern: READY });
    const client = await raw(server.url);
    const before = client.request('/?ms=400');
    await client.waitFor((f) => f.type === 'GOAWAY');
    const after = client.request('/');
    await client.waitFor(() => client.ended(before));
    // Give the server time to have answered the second stream, if it saw it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seen = server.stdout.filter((line) => line.startsWith('stream '));
    expect(client.body(before)).toBe('ok\n');
    if (can?.http2ServesStreamsAfterNotice) {
      expect(seen).toEqual([`stream ${before} /?ms=400`, `stream ${after} /`]);
      expect(client.ended(after)).toBe(true);
    } else {
      expect(seen).toEqual([`stream ${before} /?ms=400`]);
      expect(client.frames.filter((f) => f.streamId === after)).toEqual([]);
    }
  });
});

describe.skipIf(!isUnderTest('deno'))(`pins Deno ${isUnderTest('deno') ? capabilities('deno').version : ''}: Deno.serve over TLS`, () => {
  const can = isUnderTest('deno') ? capabilities('deno') : undefined;
  const start = async (): Promise<ServerHandle> => {
    server = await startServer({ runtime: 'deno', script: fixturePath('deno-http2-server.ts'), env: { ...tls, H2_VARIANT: 'bare' }, readyPattern: READY });
    return server;
  };

  it(`speaks HTTP/2 by ALPN: ${can?.servesHttp2 ? 'yes' : 'no'}`, async () => {
    const handle = await start();
    const client = await raw(handle.url);
    expect(client.frames.some((f) => f.type === 'SETTINGS')).toBe(can?.servesHttp2);
  });

  it('shutdown() closes gracefully in two steps, GOAWAY 2^31-1 then PING then GOAWAY with the last stream, serving the stream in flight and one opened in between, for a client that does not answer the GOAWAY', async () => {
    const handle = await start();
    const client = await raw(handle.url);
    const first = client.request('/?ms=500');
    await handle.waitForLine(/^started \/\?ms=500/, 10_000);
    handle.kill('SIGTERM');
    expect(await client.waitFor((f) => f.type === 'GOAWAY')).toMatchObject({ lastStreamId: MAX_STREAM_ID, errorCode: 0 });
    const between = client.request('/');
    client.pingAck(await client.waitFor((f) => f.type === 'PING' && (f.flags & 1) === 0));
    const last = await client.waitFor((f) => f.type === 'GOAWAY' && f.lastStreamId !== MAX_STREAM_ID);
    expect(last.lastStreamId).toBe(between);
    await client.waitFor(() => client.ended(first) && client.ended(between));
    expect([client.body(first), client.body(between)]).toEqual(['slept 500 ms\n', 'slept 0 ms\n']);
  });

  it(`a client that answers the GOAWAY with its own (as Node's http2 client always does) ${can?.http2ClientGoawayDropsStreams ? 'has its connection closed at once, its stream in flight unanswered, which Deno still reports completed' : 'gets its stream in flight answered'}`, async () => {
    const handle = await start();
    const client = await raw(handle.url);
    const inFlight = client.request('/?ms=500');
    await handle.waitForLine(/^started \/\?ms=500/, 10_000);
    handle.kill('SIGTERM');
    await client.waitFor((f) => f.type === 'GOAWAY');
    client.goaway();
    await client.waitFor((f) => f.type === 'CLOSED' || client.ended(inFlight));
    await handle.waitForLine(/^completed \/\?ms=500/, 10_000);
    if (can?.http2ClientGoawayDropsStreams) {
      expect(client.ended(inFlight)).toBe(false);
      expect(client.body(inFlight)).toBe('');
    } else {
      expect(client.body(inFlight)).toBe('slept 500 ms\n');
    }
  });
});

describe.skipIf(!isUnderTest('bun'))(`pins Bun ${isUnderTest('bun') ? capabilities('bun').version : ''}: Bun.serve over TLS`, () => {
  const can = isUnderTest('bun') ? capabilities('bun') : undefined;
  it(`negotiates ${can?.servesHttp2 ? 'HTTP/2' : 'no HTTP/2: ALPN offers h2 and http/1.1, it picks neither and speaks HTTP/1.1'}`, async () => {
    server = await startServer({ runtime: 'bun', script: fixturePath('bun-tls-server.ts'), env: tls, readyPattern: READY });
    const url = new URL(server.url);
    const alpn = await new Promise<string | false>((resolve, reject) => {
      const socket = connectTls({ host: url.hostname, port: Number(url.port), ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false }, () => {
        resolve(socket.alpnProtocol ?? false);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    if (can?.servesHttp2) expect(alpn).toBe('h2');
    else expect(alpn).not.toBe('h2');
  });
});
