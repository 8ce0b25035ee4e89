import { afterAll, describe, expect, it } from 'vitest';
import { capabilities, isUnderTest, killAllChildren, nodeUnderTest, runtimeCommand, startChild } from '@quiesce/test-support';
import { fixturePath } from '../harness/index.ts';

// Pins: Node's own behaviour that Quiesce relies on and that changed between Node lines, observed on
// the Node under test (QUIESCE_TEST_NODE; `npm run test:node-lines` runs this on 22, 24 and 26, `npm
// test` on the Node that runs it) and compared with what capabilities('node') declares for that
// version. A Node upgrade that changes one of them turns its test red: then update the capability
// (packages/test-support/src/capabilities.ts) and whatever in Quiesce depends on it.

afterAll(() => killAllChildren());

const can = isUnderTest('node') ? capabilities('node') : undefined;
const node = can ? `Node ${nodeUnderTest().version}` : 'Node (not under test)';

/** Runs one scenario of src/fixtures/node-behaviour-probe.mjs on the Node under test. */
async function probe<T>(scenario: string): Promise<T> {
  const child = startChild(runtimeCommand('node', fixturePath('node-behaviour-probe.mjs'), [scenario]));
  const line = await child.waitForLine(/^result /, 20_000);
  expect(await child.waitForExit()).toMatchObject({ code: 0 });
  const result = JSON.parse(line.slice('result '.length)) as T & { node: string };
  expect(result.node).toBe(can?.version);
  return result;
}

interface CloseResult {
  afterCloseMs250: { fresh: string; idle: string; active: string };
  inFlightResponseConnectionClose: boolean;
  inFlightSocket300msAfterResponse: string;
}

describe.skipIf(!can)(`pins ${node}: its own server behaviour that Quiesce relies on`, () => {
  // Why Quiesce drains itself: the Node adapter closes only the listening socket (net.Server#close)
  // and the Fastify plugin holds fastify.close(), because http.Server#close() drops idle keep-alive
  // sockets at once, under clients that may be sending on them (the keep-alive race), and does not
  // tell a request in flight to reconnect elsewhere.
  for (const method of ['close', 'close-idle'] as const) {
    const call = method === 'close' ? 'http.Server#close()' : 'http.Server#closeIdleConnections()';
    it(`${call} closes idle keep-alive sockets at once with FIN, ${can?.closeIdleClosesFreshConnections ? 'and' : 'but not'} connections that never sent a request; a response in flight goes out without Connection: close and its socket stays open`, async () => {
      const result = await probe<CloseResult>(method);
      expect(result.afterCloseMs250).toEqual({
        fresh: can?.closeIdleClosesFreshConnections ? 'fin' : 'open',
        idle: 'fin',
        active: 'open',
      });
      expect(result.inFlightResponseConnectionClose).toBe(false);
      expect(result.inFlightSocket300msAfterResponse).toBe('open');
    });
  }

  it(`an idle keep-alive socket outlives its announced timeout by 1 s (keepAliveTimeout 500 ms: "Keep-Alive: timeout=0", open 1 s after the response)${can?.keepAliveTimeoutBuffer ? ', unless keepAliveTimeoutBuffer is 0' : '; keepAliveTimeoutBuffer does not exist yet and changes nothing'}`, async () => {
    const result = await probe<{
      bufferProperty: { zero: number | null; standard: number | null };
      keepAliveHeader: string | null;
      at1000MsAfterResponse: { zero: string; standard: string };
      closedFirst: string | null;
    }>('keep-alive-buffer');
    expect(result.keepAliveHeader).toBe('timeout=0');
    expect(result.at1000MsAfterResponse.standard).toBe('open');
    if (can?.keepAliveTimeoutBuffer) {
      expect(result.bufferProperty).toEqual({ zero: 0, standard: 1_000 });
      // 500 ms against 1 500 ms: the socket without the buffer closes first.
      expect(result.closedFirst).toBe('zero');
    } else {
      expect(result.bufferProperty).toEqual({ zero: null, standard: null });
      expect(result.at1000MsAfterResponse.zero).toBe('open');
    }
  });

  // Not used by Quiesce yet (HTTP/2 drains are issue 16): pinned so that the HTTP/2 work starts from
  // what each line really does.
  it(`http2.Server#close() ${can?.http2CloseSendsGoaway ? 'sends GOAWAY, so an idle session ends and the close callback runs' : 'sends no GOAWAY: an idle session stays open and the close callback waits for it'}`, async () => {
    const result = await probe<{ goaway: boolean; sessionClosed: boolean; closeCallback: boolean }>('http2-close');
    const sends = can?.http2CloseSendsGoaway ?? false;
    expect(result).toMatchObject({ goaway: sends, sessionClosed: sends, closeCallback: sends });
  });

  // @quiesce/listener's acquire() refuses reusePort where Node would ignore it (reuse-port.test.ts there).
  it(`listen({ reusePort: true }) ${can?.reusePort ? 'lets a second listener bind the same port' : 'is ignored: a second listener on the same port gets EADDRINUSE'}`, async () => {
    const result = await probe<{ second: string }>('reuse-port');
    expect(result.second).toBe(can?.reusePort ? 'listening' : 'EADDRINUSE');
  });
});
