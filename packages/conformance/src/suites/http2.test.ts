import { execFile, spawnSync } from 'node:child_process';
import { type ClientHttp2Session, connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import {
  type Http2FrameClient,
  capabilities,
  killAllChildren,
  openHttp2Frames,
  type Runtime,
  runtimesUnderTest,
  type ServerHandle,
  type SelfSignedCertificate,
  selfSignedCertificate,
  startServer,
} from '@quiesce/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, runHttp2Load } from '../harness/index.ts';

// HTTP/2 through Quiesce, from the outside, on every runtime whose own server speaks it (Node's
// node:http2 under createNodeAdapter, on every Node line of the matrix; Deno.serve over TLS under
// serveDeno), with real clients: Node's http2.connect, a hand-driven connection (openHttp2Frames),
// curl --http2 and h2load (Debian's nghttp2-client). What each test promises a user is its name.

const MAX_STREAM_ID = 2 ** 31 - 1;
const NO_ERROR = 0;
const INTERNAL_ERROR = 2;
const READY = /listening on (https?:\/\/\S+)/;

const runtimes = runtimesUnderTest().filter((runtime) => capabilities(runtime).servesHttp2);
const tls = { TLS_KEY: '', TLS_CERT: '' };
let certificate: SelfSignedCertificate | undefined;
let server: ServerHandle | undefined;
const sessions: ClientHttp2Session[] = [];
const rawClients: Http2FrameClient[] = [];

beforeAll(() => {
  certificate = selfSignedCertificate();
  Object.assign(tls, certificate.env);
});

afterEach(async () => {
  for (const session of sessions.splice(0)) session.destroy();
  for (const client of rawClients.splice(0)) client.destroy();
  await server?.stop();
  server = undefined;
});

afterAll(() => {
  killAllChildren();
  certificate?.dispose();
});

/** Whether `binary` runs here (`--version` exits 0). */
function installed(binary: string): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
}
const hasCurlHttp2 = installed('curl') && /HTTP2/.test(spawnSync('curl', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const hasH2load = installed('h2load');

type Mode = 'h2c' | 'tls' | 'tls-http1';

/** The HTTP/2 server fixture of `runtime` (Deno: TLS only), under Quiesce unless `variant` says `bare`. */
async function startH2(runtime: Runtime, mode: Mode, env: Record<string, string> = {}): Promise<ServerHandle> {
  const script = runtime === 'deno' ? fixturePath('deno-http2-server.ts') : fixturePath('node-http2-server.mjs');
  server = await startServer({ runtime, script, env: { ...tls, H2_MODE: mode, ...env }, readyPattern: READY });
  return server;
}

/** A Node http2 client session that records the GOAWAYs it gets as `code/last-stream-id`. */
async function h2Session(url: string): Promise<{ session: ClientHttp2Session; goaways: string[] }> {
  const session = connect(url, { rejectUnauthorized: false });
  sessions.push(session);
  const goaways: string[] = [];
  session.on('goaway', (code: number, last: number) => goaways.push(`${code}/${last}`));
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return { session, goaways };
}

interface StreamAnswer {
  status: number;
  body: string;
  rstCode: number | undefined;
  connection: unknown;
}

function get(session: ClientHttp2Session, path: string): Promise<StreamAnswer> {
  const stream = session.request({ ':path': path });
  let status = 0;
  let connection: unknown;
  let body = '';
  stream.setEncoding('utf8');
  stream.on('response', (headers) => {
    status = Number(headers[':status']);
    connection = headers.connection;
  });
  stream.on('data', (chunk: string) => {
    body += chunk;
  });
  stream.on('error', () => {});
  return new Promise((resolve) => stream.on('close', () => resolve({ status, body, rstCode: stream.rstCode, connection })));
}

async function rawClient(url: string): Promise<Http2FrameClient> {
  const client = await openHttp2Frames(url);
  rawClients.push(client);
  return client;
}

function output(handle: ServerHandle): string {
  return [...handle.stdout, ...handle.stderr].join('\n');
}

/** Waits until the server printed a line matching `pattern`. */
function printed(handle: ServerHandle, pattern: RegExp): Promise<string> {
  return handle.waitForLine(pattern, 10_000);
}

for (const runtime of runtimes) {
  const modes: Mode[] = runtime === 'node' ? ['h2c', 'tls', 'tls-http1'] : ['tls'];
  const can = capabilities(runtime);
  const label = `${runtime} ${can.version}`;

  describe(`HTTP/2 on ${label}`, () => {
    for (const mode of modes) {
      it(`[${mode}] a stream in flight at SIGTERM completes; its session is told GOAWAY 2^31-1 first, then the last stream; exit 0, clean, no header warning`, async () => {
        const handle = await startH2(runtime, mode);
        const { session, goaways } = await h2Session(handle.url);
        expect((await get(session, '/')).status).toBe(200);
        const slow = get(session, '/?ms=800');
        // In flight: Deno prints it when its handler starts; Node's stream is open once the request is sent.
        if (runtime === 'deno') await printed(handle, /^started \/\?ms=800/);
        else await new Promise((resolve) => setTimeout(resolve, 100));
        handle.kill('SIGTERM');
        const answer = await slow;
        expect(answer).toMatchObject({ status: 200, body: 'slept 800 ms\n' });
        expect(answer.connection).toBeUndefined();
        const exit = await handle.exited;
        expect(exit).toMatchObject({ code: 0, signal: null });
        expect(goaways[0]).toBe(`${NO_ERROR}/${MAX_STREAM_ID}`);
        // Node's client answers the first GOAWAY with its own, and may end before it reads the second.
        for (const later of goaways.slice(1)) expect(later).toMatch(new RegExp(`^${NO_ERROR}/\\d+$`));
        expect(output(handle)).toMatch(/shutdown clean/);
        expect(output(handle)).not.toMatch(/warning:|connection header/i);
      });
    }

    it('no stream the server accepted is lost: 10 sessions × 4 streams in a tight loop across SIGTERM; every session is told with GOAWAY; exit 0, clean, long before the deadline', async () => {
      const mode: Mode = runtime === 'node' ? 'tls-http1' : 'tls';
      // The deadline is far: a clean report says the drain ended on its own, not at it.
      const handle = await startH2(runtime, mode, { QUIESCE_DEADLINE_MS: '20000' });
      const load = runHttp2Load({ url: handle.url, sessions: 10, streamsPerSession: 4, path: '/?ms=20', until: handle.exited, maxDurationMs: 15_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      handle.kill('SIGTERM');
      const exit = await handle.exited;
      const { totals, failures } = await load;
      expect({ lost: totals.lost, failures: failures.filter((f) => f.outcome === 'lost') }).toEqual({ lost: 0, failures: [] });
      expect(totals.ok).toBeGreaterThan(40);
      expect(totals.sessionsToldGoaway).toBe(totals.sessions);
      expect(totals.sessionsNoticed).toBe(totals.sessions);
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(output(handle)).toMatch(/shutdown clean/);
      expect(output(handle)).not.toMatch(/warning:|connection header/i);
    });

    it(
      can.http2ServesStreamsAfterNotice
        ? 'a stream the client opens between the two GOAWAYs is served'
        : "a stream the client opens between the two GOAWAYs is refused cleanly, never lost: the final GOAWAY's last-stream-id is below it (nghttp2 ignores streams after any GOAWAY; Node has no shutdown notice)",
      async () => {
        const handle = await startH2(runtime, runtime === 'node' ? 'h2c' : 'tls');
        // A client that keeps reading but never answers the GOAWAY by itself.
        const client = await rawClient(handle.url);
        const first = client.request('/?ms=600');
        if (runtime === 'deno') await printed(handle, /^started \/\?ms=600/);
        else await new Promise((resolve) => setTimeout(resolve, 100));
        handle.kill('SIGTERM');
        const notice = await client.waitFor((f) => f.type === 'GOAWAY');
        expect(notice).toMatchObject({ lastStreamId: MAX_STREAM_ID, errorCode: NO_ERROR });
        const between = client.request('/');
        const ping = await client.waitFor((f) => f.type === 'PING' && (f.flags & 1) === 0);
        client.pingAck(ping);
        const last = await client.waitFor((f) => f.type === 'GOAWAY' && f.lastStreamId !== MAX_STREAM_ID);
        await client.waitFor(() => client.ended(first) && (client.ended(between) || !can.http2ServesStreamsAfterNotice));
        expect(client.body(first)).toBe('slept 600 ms\n');
        if (can.http2ServesStreamsAfterNotice) {
          await client.waitFor(() => client.ended(between));
          expect(client.body(between)).toBe('slept 0 ms\n');
          expect(last.lastStreamId).toBeGreaterThanOrEqual(between);
        } else {
          expect(last.lastStreamId).toBe(first);
          expect(last.lastStreamId).toBeLessThan(between);
          expect(client.frames.filter((f) => f.streamId === between)).toEqual([]);
        }
        expect(client.frames.filter((f) => f.type === 'RST_STREAM')).toEqual([]);
        expect(await handle.exited).toMatchObject({ code: 0, signal: null });
      },
    );

    it.skipIf(!hasCurlHttp2)(
      `curl --http2${hasCurlHttp2 ? '' : ' (skipped: no curl with HTTP2 on PATH; Debian package curl)'}: the request in flight at SIGTERM gets its whole answer`,
      async () => {
        const handle = await startH2(runtime, 'tls');
        const curl = new Promise<{ stdout: string; code: number }>((resolve) => {
          const child = execFile('curl', ['-sk', '--http2', '-w', '\\n%{http_version} %{http_code}', `${handle.url}/?ms=800`], (error, stdout) =>
            resolve({ stdout, code: typeof error?.code === 'number' ? error.code : 0 }),
          );
          child.stdin?.end();
        });
        if (runtime === 'deno') await printed(handle, /^started \/\?ms=800/);
        else await new Promise((resolve) => setTimeout(resolve, 300));
        handle.kill('SIGTERM');
        expect(await curl).toEqual({ stdout: 'slept 800 ms\n\n2 200', code: 0 });
        expect(await handle.exited).toMatchObject({ code: 0, signal: null });
      },
    );

    it.skipIf(!hasH2load)(
      `h2load${hasH2load ? '' : ' (skipped: h2load not installed; Debian package nghttp2-client)'}: 10 clients × 4 streams in a tight loop across SIGTERM, no request failed or errored`,
      async () => {
        const handle = await startH2(runtime, 'tls', { QUIESCE_DEADLINE_MS: '20000' });
        const h2load = new Promise<string>((resolve) => {
          execFile('h2load', ['-c', '10', '-m', '4', '-D', '2', `${handle.url}/?ms=20`], { timeout: 15_000 }, (_error, stdout) => resolve(stdout));
        });
        await new Promise((resolve) => setTimeout(resolve, 700));
        handle.kill('SIGTERM');
        const report = await h2load;
        const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(report);
        expect(requests, report).not.toBeNull();
        const [, , started, done, succeeded, failed, errored] = requests!.map(Number);
        expect({ failed, errored, doneAll: done === started }).toEqual({ failed: 0, errored: 0, doneAll: true });
        expect(succeeded).toBeGreaterThan(0);
        expect(await handle.exited).toMatchObject({ code: 0, signal: null });
        expect(output(handle)).toMatch(/shutdown clean/);
      },
    );

    if (runtime === 'node') {
      it('[tls-http1] HTTP/1.1 clients of an allowHTTP1 server still get Connection: close, and HTTP/2 clients no Connection header', async () => {
        const handle = await startH2(runtime, 'tls-http1');
        const { session } = await h2Session(handle.url);
        const h2 = get(session, '/?ms=600');
        const h1 = new Promise<{ connection: string | undefined; body: string }>((resolve, reject) => {
          const req = httpsRequest(`${handle.url}/?ms=600`, { rejectUnauthorized: false, agent: false, headers: { connection: 'keep-alive' } }, (res) => {
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
        await new Promise((resolve) => setTimeout(resolve, 200));
        handle.kill('SIGTERM');
        expect(await h1).toEqual({ connection: 'close', body: 'slept 600 ms\n' });
        expect(await h2).toMatchObject({ status: 200, body: 'slept 600 ms\n', connection: undefined });
        expect(await handle.exited).toMatchObject({ code: 0, signal: null });
        expect(output(handle)).not.toMatch(/warning:|connection header/i);
      });

      it('[h2c] at the deadline a session left gets GOAWAY INTERNAL_ERROR before it is destroyed, and the report counts it and its stream', async () => {
        const handle = await startH2(runtime, 'h2c', { QUIESCE_DEADLINE_MS: '1500' });
        const { session, goaways } = await h2Session(handle.url);
        const slow = get(session, '/?ms=5000');
        await new Promise((resolve) => setTimeout(resolve, 100));
        handle.kill('SIGTERM');
        expect((await slow).body).toBe('');
        expect(await handle.exited).toMatchObject({ code: 1, signal: null });
        expect(goaways[0]).toBe(`${NO_ERROR}/${MAX_STREAM_ID}`);
        expect(goaways.at(-1)).toBe(`${INTERNAL_ERROR}/1`);
        expect(output(handle)).toMatch(/shutdown forced .* 1 cut; .* 1 force-closed/);
      });

      it('[h2c] a client that never acknowledges the PING gets the final GOAWAY at the bound, while its stream is still served', async () => {
        const handle = await startH2(runtime, 'h2c');
        const client = await rawClient(handle.url);
        const slow = client.request('/?ms=2500');
        await new Promise((resolve) => setTimeout(resolve, 100));
        handle.kill('SIGTERM');
        await client.waitFor((f) => f.type === 'PING' && (f.flags & 1) === 0);
        const last = await client.waitFor((f) => f.type === 'GOAWAY' && f.lastStreamId !== MAX_STREAM_ID);
        expect(last.lastStreamId).toBe(slow);
        expect(client.ended(slow)).toBe(false); // the bound, not the stream's end, sent it
        await client.waitFor(() => client.ended(slow));
        expect(client.body(slow)).toBe('slept 2500 ms\n');
        expect(await handle.exited).toMatchObject({ code: 0, signal: null });
      });
    }

    if (runtime === 'deno') {
      it("a stream whose handler outlives the response hold is reported cut, never clean: Deno drops it when Node's client answers the GOAWAY", async () => {
        const handle = await startH2(runtime, 'tls');
        const { session } = await h2Session(handle.url);
        const slow = get(session, '/?ms=2500');
        await printed(handle, /^started \/\?ms=2500/);
        handle.kill('SIGTERM');
        const answer = await slow;
        expect(answer.body).toBe('');
        expect(await handle.exited).toMatchObject({ code: 1, signal: null });
        expect(output(handle)).toMatch(/shutdown forced .* 1 cut;/);
        // What Deno itself says about that stream: delivered.
        expect(output(handle)).toMatch(/^completed \/\?ms=2500$/m);
      });
    }
  });
}
