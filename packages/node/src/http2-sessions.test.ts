import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import {
  type ClientHttp2Session,
  type Http2SecureServer,
  type Http2Server,
  connect,
  constants,
  createSecureServer,
  createServer,
} from 'node:http2';
import { type AddressInfo, connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@quiesce/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAdapter } from './node-adapter.ts';

const MAX_STREAM_ID = 2 ** 31 - 1;
const servers: (Http2Server | Http2SecureServer)[] = [];
const clients: ClientHttp2Session[] = [];
/** A deadline that never comes, for calls whose deadline the test does not exercise. */
const noDeadline = new AbortController().signal;
let tls: { key: Buffer; cert: Buffer };
let tlsDir: string;

beforeAll(() => {
  tlsDir = mkdtempSync(join(tmpdir(), 'quiesce-h2-'));
  const key = join(tlsDir, 'key.pem');
  const cert = join(tlsDir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], {
    stdio: 'ignore',
  });
  tls = { key: readFileSync(key), cert: readFileSync(cert) };
});

afterAll(() => rmSync(tlsDir, { recursive: true, force: true }));

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const server of servers.splice(0)) {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Http2Server | Http2SecureServer): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A real HTTP/2 client session that records the GOAWAYs it receives as `code/last-stream-id`. */
async function client(url: string): Promise<{ session: ClientHttp2Session; goaways: string[] }> {
  const session = connect(url, { rejectUnauthorized: false });
  clients.push(session);
  const goaways: string[] = [];
  session.on('goaway', (code: number, last: number) => goaways.push(`${code}/${last}`));
  session.on('error', () => {});
  await once(session, 'connect');
  return { session, goaways };
}

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  rstCode: number | undefined;
}

/** One GET on `session`; resolves when the stream closes, whatever happened to it. */
function get(session: ClientHttp2Session, path: string): Promise<Answer> {
  const stream = session.request({ ':path': path });
  let body = '';
  let headers: Record<string, unknown> = {};
  stream.setEncoding('utf8');
  stream.on('response', (h) => {
    headers = h;
  });
  stream.on('data', (chunk: string) => {
    body += chunk;
  });
  stream.on('error', () => {});
  return new Promise((resolve) => stream.on('close', () => resolve({ status: Number(headers[':status'] ?? 0), headers, body, rstCode: stream.rstCode })));
}

/** A handler that answers `/slow` when told to, everything else at once. */
function slowAnswers() {
  const waiting: (() => void)[] = [];
  let arrived: () => void = () => {};
  let started = new Promise<void>((resolve) => (arrived = resolve));
  return {
    onRequest(req: { url?: string }, res: { end(body: string): void }) {
      if (req.url === '/slow') {
        waiting.push(() => res.end('slow\n'));
        arrived();
      } else res.end('ok\n');
    },
    /** Resolves once a /slow request is waiting. */
    started: () => started,
    release() {
      for (const answer of waiting.splice(0)) answer();
      started = new Promise<void>((resolve) => (arrived = resolve));
    },
  };
}

describe('HTTP/2 sessions under createNodeAdapter', () => {
  it('an h2c stream in flight completes after stopAccepting; its session gets GOAWAY 2^31-1, then GOAWAY with its last stream, and the drain ends with it', async () => {
    const answers = slowAnswers();
    const server = createServer((req, res) => answers.onRequest(req, res));
    const adapter = createNodeAdapter(server, { clock: new ManualClock() });
    const port = await listen(server);
    const { session, goaways } = await client(`http://127.0.0.1:${port}`);
    expect((await get(session, '/')).body).toBe('ok\n');
    const slow = get(session, '/slow');
    await answers.started();
    expect(adapter.stats()).toMatchObject({ connections: 1, inFlight: 1 });

    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const drained = adapter.drain({ signal: noDeadline });
    await once(session, 'goaway');
    // The final GOAWAY follows the PING's ACK, which Node's client sends by itself.
    while (goaways.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(goaways).toEqual([`${constants.NGHTTP2_NO_ERROR}/${MAX_STREAM_ID}`, `${constants.NGHTTP2_NO_ERROR}/3`]);
    answers.release();
    expect(await slow).toMatchObject({ status: 200, body: 'slow\n', rstCode: constants.NGHTTP2_NO_ERROR });
    // The manual clock never moves: the session ended with its last stream, not at an idle grace.
    expect(await drained).toMatchObject({ outcome: 'drained', inFlightAtStart: 1, requestsCompleted: 1, requestsCut: 0, forceClosed: 0 });
  });

  it('an idle session is told with both GOAWAYs and closed as soon as the listener is, with no idle grace to wait out', async () => {
    const server = createServer((_req, res) => res.end('ok\n'));
    const adapter = createNodeAdapter(server, { clock: new ManualClock() });
    const port = await listen(server);
    const { session, goaways } = await client(`http://127.0.0.1:${port}`);
    expect((await get(session, '/')).status).toBe(200);

    adapter.beginShutdown();
    await adapter.stopAccepting({ signal: noDeadline });
    const report = await adapter.drain({ signal: noDeadline });
    expect(report).toMatchObject({ outcome: 'drained', forceClosed: 0 });
    // Node's client answers the first GOAWAY by closing its session, which may end the connection
    // before it reads the second.
    expect(goaways[0]).toBe(`0/${MAX_STREAM_ID}`);
    expect(goaways.slice(1)).toEqual(goaways.length > 1 ? ['0/1'] : []);
    expect(adapter.stats().connections).toBe(0);
  });

  it('a session whose client went silent after the GOAWAYs is ended once idle for the idle grace, not kept to the deadline', async () => {
    const server = createServer((_req, res) => res.end('ok\n'));
    const clock = new ManualClock();
    const adapter = createNodeAdapter(server, { clock, idleGraceMs: 250 });
    const port = await listen(server);
    // A client that opens a session, sends one request, then never reads or answers again.
    const silent = connectTcp(port, '127.0.0.1');
    await once(silent, 'connect');
    const frame = (type: number, flags: number, id: number, payload: Buffer): Buffer => {
      const head = Buffer.alloc(9);
      head.writeUIntBE(payload.length, 0, 3);
      head[3] = type;
      head[4] = flags;
      head.writeUInt32BE(id, 5);
      return Buffer.concat([head, payload]);
    };
    const field = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
    const headers = Buffer.concat([field(':method', 'GET'), field(':path', '/'), field(':scheme', 'http'), field(':authority', 'x')]);
    const streamed = once(server, 'stream');
    silent.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(4, 0, 0, Buffer.alloc(0)), frame(1, 5, 1, headers)]));
    await streamed;
    while (adapter.stats().inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    silent.pause();

    await adapter.stopAccepting({ signal: noDeadline });
    let report: unknown;
    void adapter.drain({ signal: noDeadline }).then((r) => (report = r));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(report).toBeUndefined(); // the client has not closed, and the grace has not passed
    await clock.advance(250);
    await clock.advance(1); // the confirming look (a test clock has only timers)
    await new Promise((resolve) => setTimeout(resolve, 50)); // the socket's close
    expect(report).toMatchObject({ outcome: 'drained', idleClosed: 1, forceClosed: 0 });
    silent.destroy();
  });

  it('serves on through the lame duck: no GOAWAY and no Connection header between beginShutdown and stopAccepting', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const server = createServer((_req, res) => res.end('ok\n'));
      const adapter = createNodeAdapter(server);
      const port = await listen(server);
      const { session, goaways } = await client(`http://127.0.0.1:${port}`);
      adapter.beginShutdown();
      const answer = await get(session, '/');
      expect(answer.status).toBe(200);
      expect(answer.headers.connection).toBeUndefined();
      expect(goaways).toEqual([]);
      // A process warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => /connection header/i.test(message))).toEqual([]);
      await adapter.stopAccepting({ signal: noDeadline });
      await adapter.drain({ signal: noDeadline });
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('on an allowHTTP1 TLS server, HTTP/2 streams are requests on their session and HTTP/1.1 responses still carry Connection: close', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const answers = slowAnswers();
      const server = createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => answers.onRequest(req, res));
      // The system clock: stopAccepting() holds responses for the idle grace after a Connection: close.
      const adapter = createNodeAdapter(server, { idleGraceMs: 20 });
      const port = await listen(server);
      const { session, goaways } = await client(`https://127.0.0.1:${port}`);
      const h2Slow = get(session, '/slow');
      await answers.started();
      const h1Slow = new Promise<{ connection: string | undefined; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: '/slow', rejectUnauthorized: false, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ connection: res.headers.connection, body }));
        });
        req.on('error', reject);
        req.end();
      });
      while (adapter.stats().inFlight < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      // One HTTP/2 session with one stream, one HTTP/1.1 connection with one request.
      expect(adapter.stats()).toMatchObject({ connections: 2, inFlight: 2 });

      adapter.beginShutdown();
      answers.release();
      expect(await h1Slow).toEqual({ connection: 'close', body: 'slow\n' });
      const h2 = await h2Slow;
      expect(h2).toMatchObject({ status: 200, body: 'slow\n' });
      expect(h2.headers.connection).toBeUndefined();
      await adapter.stopAccepting({ signal: noDeadline });
      expect(await adapter.drain({ signal: noDeadline })).toMatchObject({ outcome: 'drained', requestsCut: 0, forceClosed: 0 });
      expect(goaways[0]).toBe(`0/${MAX_STREAM_ID}`);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => /connection header/i.test(message))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('with the stream API, a stream is counted once and its session drains the same way', async () => {
    const answers = slowAnswers();
    const server = createServer();
    server.on('stream', (stream, headers) =>
      answers.onRequest({ url: headers[':path'] }, {
        end: (body) => {
          stream.respond({ ':status': 200 });
          stream.end(body);
        },
      }),
    );
    const adapter = createNodeAdapter(server, { clock: new ManualClock() });
    const port = await listen(server);
    const { session } = await client(`http://127.0.0.1:${port}`);
    const slow = get(session, '/slow');
    await answers.started();
    expect(adapter.stats()).toMatchObject({ connections: 1, inFlight: 1 });
    await adapter.stopAccepting({ signal: noDeadline });
    const drained = adapter.drain({ signal: noDeadline });
    answers.release();
    expect((await slow).body).toBe('slow\n');
    expect(await drained).toMatchObject({ outcome: 'drained', requestsCompleted: 1 });
  });

  it("the application's own server.close() during the drain (Node ≥ 24 sends each session a lone GOAWAY) ends nothing early: the stream in flight completes, the drain ends with it", async () => {
    const answers = slowAnswers();
    const server = createServer((req, res) => answers.onRequest(req, res));
    const adapter = createNodeAdapter(server, { clock: new ManualClock() });
    const port = await listen(server);
    const { session, goaways } = await client(`http://127.0.0.1:${port}`);
    const slow = get(session, '/slow');
    await answers.started();
    await adapter.stopAccepting({ signal: noDeadline });
    const drained = adapter.drain({ signal: noDeadline });
    let closed = false;
    server.close(() => (closed = true)); // e.g. a framework's close() in a shutdown hook
    answers.release();
    expect(await slow).toMatchObject({ status: 200, body: 'slow\n' });
    expect(await drained).toMatchObject({ outcome: 'drained', requestsCompleted: 1, forceClosed: 0 });
    expect(goaways[0]).toBe(`0/${MAX_STREAM_ID}`);
    while (!closed) await new Promise((resolve) => setTimeout(resolve, 5));
  });

  it('a session opened once the GOAWAYs have started is told at once', async () => {
    const server = createServer((_req, res) => res.end('ok\n'));
    const adapter = createNodeAdapter(server, { clock: new ManualClock() });
    const port = await listen(server);
    const first = await client(`http://127.0.0.1:${port}`);
    // drain() without stopAccepting(): the listener is still open.
    const drained = adapter.drain({ signal: noDeadline });
    await once(first.session, 'goaway');
    const late = await client(`http://127.0.0.1:${port}`);
    await once(late.session, 'goaway');
    expect(late.goaways[0]).toBe(`0/${MAX_STREAM_ID}`);
    expect(await drained).toMatchObject({ outcome: 'drained' });
  });

  it("at the deadline a session with a stream in flight gets GOAWAY INTERNAL_ERROR and is destroyed; the report counts it and its stream as cut", async () => {
    const answers = slowAnswers();
    const server = createServer((req, res) => answers.onRequest(req, res));
    const sessionErrors: string[] = [];
    server.on('sessionError', (error: Error & { code?: string }) => sessionErrors.push(error.code ?? error.name));
    const adapter = createNodeAdapter(server, { clock: new ManualClock() });
    const port = await listen(server);
    const { session, goaways } = await client(`http://127.0.0.1:${port}`);
    const slow = get(session, '/slow');
    await answers.started();
    const deadline = new AbortController();
    await adapter.stopAccepting({ signal: deadline.signal });
    const drained = adapter.drain({ signal: deadline.signal });
    while (goaways.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', requestsCut: 1, forceClosed: 1 });
    const cut = await slow;
    expect(cut.body).toBe('');
    while (goaways.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(goaways[2]).toBe(`${constants.NGHTTP2_INTERNAL_ERROR}/1`);
    // Reported once the session's socket has closed.
    for (let i = 0; i < 200 && sessionErrors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sessionErrors).toEqual(['QUIESCE_HTTP2_DEADLINE']);
    answers.release();
  });

  it('forceClose() destroys every session at once and returns how many', async () => {
    const server = createServer((_req, res) => res.end('ok\n'));
    server.on('sessionError', () => {});
    const adapter = createNodeAdapter(server);
    const port = await listen(server);
    const one = await client(`http://127.0.0.1:${port}`);
    const two = await client(`http://127.0.0.1:${port}`);
    await Promise.all([get(one.session, '/'), get(two.session, '/')]);
    expect(adapter.forceClose()).toBe(2);
    // Each client sees GOAWAY INTERNAL_ERROR: its session errors, then closes.
    await Promise.all([one, two].map(({ session }) => new Promise((resolve) => session.once('close', resolve))));
    expect(adapter.stats().connections).toBe(0);
  });
});
