import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { DrainOptionError } from './errors.ts';
import { type FetchRuntime, type PromisePeek, createFetchAdapter } from './fetch-adapter.ts';

// The fetch adapter is the request policy of @quiesce/bun and @quiesce/deno; here it runs on Node
// against a stand-in runtime that records what the adapter asks of it.

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function setup(runtime: Partial<FetchRuntime<unknown>> = {}, options: Parameters<typeof createFetchAdapter>[1] = {}) {
  const clock = new ManualClock();
  const calls: string[] = [];
  const served = createFetchAdapter<unknown>(
    {
      name: 'test',
      closeListener: () => {
        calls.push('closeListener');
        return undefined;
      },
      forceClose: () => {
        calls.push('forceClose');
      },
      ...runtime,
    },
    { clock, ...options },
  );
  return { clock, calls, served, adapter: served.adapter };
}

const ok = (): Response => new Response('ok');
const never = new AbortController().signal;

describe('createFetchAdapter: serving', () => {
  it('hands a response over as the handler made it, counted while the handler runs, with no timer left', () => {
    const { served, adapter, clock } = setup();
    let inFlight = -1;
    const response = new Response('hi');
    const handler = served.wrap(() => {
      inFlight = adapter.stats().inFlight;
      return response;
    });
    expect(handler(new Request('http://x/'), undefined)).toBe(response);
    expect(inFlight).toBe(1);
    expect(adapter.stats().inFlight).toBe(0);
    expect(response.headers.get('connection')).toBeNull();
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes this, the request and the context through', () => {
    const { served } = setup();
    const seen: unknown[] = [];
    const handler = served.wrap(function (this: unknown, request, context) {
      seen.push(this, request.url, context);
      return ok();
    });
    const self = { server: true };
    handler.call(self, new Request('http://x/a'), 'ctx');
    expect(seen).toEqual([self, 'http://x/a', 'ctx']);
  });

  it('answers an async handler once it resolves, and ends the request then', async () => {
    const { served, adapter } = setup();
    const answer = deferred<Response>();
    const result = served.wrap(() => answer.promise)(new Request('http://x/'), undefined) as Promise<Response>;
    expect(adapter.stats().inFlight).toBe(1);
    answer.resolve(ok());
    expect((await result).status).toBe(200);
    expect(adapter.stats().inFlight).toBe(0);
  });

  it('answers a promise already fulfilled at once when the runtime can peek (no promise chained)', () => {
    const values = new WeakMap<Promise<unknown>, unknown>();
    const peek = ((promise: Promise<unknown>) => values.get(promise)) as PromisePeek;
    peek.status = (promise) => (values.has(promise) ? 'fulfilled' : 'pending');
    const { served, adapter } = setup({ peek });
    const response = ok();
    const fulfilled = Promise.resolve(response);
    values.set(fulfilled, response);
    expect(served.wrap(() => fulfilled)(new Request('http://x/'), undefined)).toBe(response);
    expect(adapter.stats().inFlight).toBe(0);
  });

  it('returns what is not a Response as it is (an upgrade) and ends the request', () => {
    const { served, adapter } = setup();
    expect(served.wrap(() => undefined)(new Request('http://x/'), undefined)).toBeUndefined();
    expect(adapter.stats().inFlight).toBe(0);
  });

  it('answers a throw or a rejection with onError, whose page goes out like any response', async () => {
    const errors: unknown[] = [];
    const { served, adapter } = setup({}, { onError: (error) => {
        errors.push(error);
        return new Response('sorry', { status: 500 });
      } });
    const thrown = served.wrap(() => {
      throw new Error('sync');
    })(new Request('http://x/'), undefined) as Response;
    expect(thrown.status).toBe(500);
    const rejected = (await served.wrap(async () => {
      throw new Error('async');
    })(new Request('http://x/'), undefined)) as Response;
    expect(await rejected.text()).toBe('sorry');
    expect(errors.map((e) => (e as Error).message)).toEqual(['sync', 'async']);
    expect(adapter.stats().inFlight).toBe(0);
  });

  it('gives the error back to the runtime when onError throws too, or when there is neither onError nor a fallback', async () => {
    const { served, adapter } = setup({}, {
      onError: () => {
        throw new Error('page broke');
      },
    });
    const handler = served.wrap(() => {
      throw new Error('handler broke');
    });
    expect(() => handler(new Request('http://x/'), undefined)).toThrow('page broke');
    const bare = setup();
    await expect(bare.served.wrap(() => Promise.reject(new Error('no page')))(new Request('http://x/'), undefined)).rejects.toThrow('no page');
    expect(adapter.stats().inFlight).toBe(0);
    expect(bare.adapter.stats().inFlight).toBe(0);
  });

  it("answers with the runtime's fallback when there is no onError", () => {
    const { served } = setup({ fallbackError: () => new Response('fallback', { status: 500 }) });
    const response = served.wrap(() => {
      throw new Error('x');
    })(new Request('http://x/'), undefined) as Response;
    expect(response.status).toBe(500);
  });

  it('after dispose, requests go straight to the handler, uncounted', () => {
    const { served, adapter } = setup();
    adapter.dispose();
    adapter.beginShutdown();
    const response = ok();
    expect(served.wrap(() => response)(new Request('http://x/'), undefined)).toBe(response);
    expect(response.headers.get('connection')).toBeNull();
  });
});

describe('createFetchAdapter: shutdown', () => {
  it('from beginShutdown on, every response carries Connection: close, the error page included', () => {
    const { served, adapter } = setup({}, { onError: () => new Response('err', { status: 500 }) });
    adapter.beginShutdown();
    expect((served.wrap(ok)(new Request('http://x/'), undefined) as Response).headers.get('connection')).toBe('close');
    const page = served.wrap(() => {
      throw new Error('x');
    })(new Request('http://x/'), undefined) as Response;
    expect(page.headers.get('connection')).toBe('close');
  });

  it('stopAccepting holds responses until quiet, closes the listener, then lets them go', async () => {
    const { served, adapter, clock, calls } = setup({}, { idleGraceMs: 100, holdMaxMs: 1_000 });
    const handler = served.wrap(ok);
    handler(new Request('http://x/'), undefined); // a response just went out
    adapter.beginShutdown();
    let stopped = false;
    const stopping = adapter.stopAccepting({ signal: never }).then(() => (stopped = true));
    const held = handler(new Request('http://x/'), undefined) as Promise<Response>;
    expect(held).toBeInstanceOf(Promise);
    await clock.advance(99);
    expect(calls).toEqual([]);
    await clock.advance(2); // quiet for 100 ms, confirmed 1 ms on
    await stopping;
    expect(stopped).toBe(true);
    expect(calls).toEqual(['closeListener']);
    expect((await held).headers.get('connection')).toBe('close');
  });

  it('with isHttp2, the hold also waits for running handlers; HTTP/2 responses go to the runtime before its listener closes, with no Connection header, the others after, with Connection: close', async () => {
    const order: string[] = [];
    const h2 = (request: Request): boolean => !request.headers.has('host');
    const { served, adapter, clock } = setup(
      {
        isHttp2: h2,
        closeListener: () => {
          order.push('closeListener');
          return undefined;
        },
      },
      { idleGraceMs: 100, holdMaxMs: 5_000 },
    );
    const slowAnswer = deferred<Response>();
    const handler = served.wrap((request) => (request.url.endsWith('/slow') ? slowAnswer.promise : ok()));
    const connection: Record<string, string | null> = {};
    const handed = (label: string, result: unknown): Promise<void> =>
      Promise.resolve(result).then((response) => {
        order.push(label);
        connection[label] = (response as Response).headers.get('connection');
      });
    adapter.beginShutdown();
    const stopping = adapter.stopAccepting({ signal: never });
    // An HTTP/2 stream whose handler still runs, an HTTP/2 stream answered, an HTTP/1.1 request answered.
    const slow = handed('h2 slow', handler(new Request('http://x/slow'), undefined));
    const quick = handed('h2 quick', handler(new Request('http://x/'), undefined));
    const h1 = handed('h1', handler(new Request('http://x/', { headers: { host: 'x' } }), undefined));
    await clock.advance(1_000);
    expect(order).toEqual([]); // quiet long since, but a handler runs
    slowAnswer.resolve(ok());
    await clock.advance(101); // quiet from the last answer on, confirmed
    await clock.advance(1);
    await Promise.all([stopping, slow, quick, h1]);
    expect(order.slice(0, 2).sort()).toEqual(['h2 quick', 'h2 slow']);
    expect(order.slice(2)).toEqual(['closeListener', 'h1']);
    expect(connection).toEqual({ 'h2 slow': null, 'h2 quick': null, h1: 'close' });
    expect(await adapter.drain({ signal: never })).toMatchObject({ outcome: 'drained', requestsCut: 0 });
  });

  it('with isHttp2, a running HTTP/1.1 handler does not hold the listener: it closes after the quiet time, and the slow response goes out after it with Connection: close', async () => {
    const h2 = (request: Request): boolean => !request.headers.has('host');
    const { served, adapter, clock, calls } = setup({ isHttp2: h2 }, { idleGraceMs: 100, holdMaxMs: 5_000 });
    const slowAnswer = deferred<Response>();
    const answered = served.wrap(() => slowAnswer.promise)(new Request('http://x/', { headers: { host: 'x' } }), undefined) as Promise<Response>;
    adapter.beginShutdown();
    const stopping = adapter.stopAccepting({ signal: never });
    await clock.advance(101); // quiet for the idle grace, confirmed
    await clock.advance(1);
    await stopping;
    expect(calls).toEqual(['closeListener']); // long before holdMaxMs, with the HTTP/1.1 handler still running
    const drained = adapter.drain({ signal: never });
    slowAnswer.resolve(ok());
    expect((await answered).headers.get('connection')).toBe('close');
    expect(await drained).toMatchObject({ outcome: 'drained', requestsCut: 0, requestsCompleted: 1 });
  });

  it('with isHttp2, an HTTP/2 response whose handler still ran when the listener closed is cut in the report (the runtime may have dropped it)', async () => {
    const { served, adapter, clock } = setup({ isHttp2: () => true }, { idleGraceMs: 100, holdMaxMs: 300 });
    const slowAnswer = deferred<Response>();
    const answered = served.wrap(() => slowAnswer.promise)(new Request('http://x/'), undefined) as Promise<Response>;
    const stopping = adapter.stopAccepting({ signal: never });
    await clock.advance(300); // the hold gives up with the handler still running
    await stopping;
    const drained = adapter.drain({ signal: never });
    slowAnswer.resolve(ok());
    expect((await answered).status).toBe(200);
    expect(await drained).toMatchObject({ outcome: 'forced', requestsCut: 1, requestsCompleted: 0 });
    // A request that starts after the close is not counted: the runtime serves it.
    expect(adapter.drain({ signal: never })).toBe(drained);
  });

  it('stopAccepting stops holding when the deadline aborts and closes the listener at once', async () => {
    const { served, adapter, clock, calls } = setup({}, { idleGraceMs: 600_000, holdMaxMs: 600_000 });
    served.wrap(ok)(new Request('http://x/'), undefined);
    const deadline = new AbortController();
    const stopping = adapter.stopAccepting({ signal: deadline.signal });
    await clock.advance(50);
    expect(calls).toEqual([]);
    deadline.abort();
    await stopping;
    expect(calls).toEqual(['closeListener']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stopAccepting waits until a connection would be refused, but not past the deadline', async () => {
    const refused = deferred();
    const { adapter } = setup({ closeListener: () => refused.promise }, { holdMaxMs: 0 });
    const deadline = new AbortController();
    let stopped = false;
    void adapter.stopAccepting({ signal: deadline.signal }).then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(stopped).toBe(false);
    deadline.abort();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(stopped).toBe(true);
  });

  it('stopAccepting is idempotent and never holds after a force', async () => {
    const { adapter, calls } = setup();
    adapter.forceClose();
    const first = adapter.stopAccepting({ signal: never });
    expect(adapter.stopAccepting({ signal: never })).toBe(first);
    await first;
    expect(calls).toEqual(['forceClose']);
  });

  it('with per-request delivery, a request answered during shutdown stays in flight until it is delivered', async () => {
    const delivered = deferred();
    const { served, adapter } = setup({ delivery: { completed: (context) => (context as { done: Promise<void> }).done } });
    adapter.beginShutdown();
    void (served.wrap(async () => ok())(new Request('http://x/'), { done: delivered.promise }) as Promise<Response>);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(adapter.stats().inFlight).toBe(1);
    const drained = adapter.drain({ signal: never });
    delivered.resolve();
    expect(await drained).toMatchObject({ outcome: 'drained', requestsCompleted: 1 });
  });

  it("with a pending count, the drain follows the runtime's count, adopting writes under way at stopAccepting", async () => {
    const runtime = { pending: 2 };
    const { adapter, clock } = setup({ delivery: { pending: () => runtime.pending } }, { holdMaxMs: 0 });
    await adapter.stopAccepting({ signal: never });
    expect(adapter.stats().inFlight).toBe(2);
    const drained = adapter.drain({ signal: never });
    runtime.pending = 0;
    await clock.advance(60);
    expect(await drained).toMatchObject({ outcome: 'drained', inFlightAtStart: 2 });
  });

  it("the drain also waits for the runtime's finished(), without counting it as a request", async () => {
    const finished = deferred();
    const { adapter } = setup({ finished: () => finished.promise }, { holdMaxMs: 0 });
    await adapter.stopAccepting({ signal: never });
    let report: unknown;
    void adapter.drain({ signal: never }).then((r) => (report = r));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(report).toBeUndefined();
    finished.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(report).toMatchObject({ outcome: 'drained', inFlightAtStart: 0, requestsCompleted: 0 });
  });

  it('at the deadline the drain cuts what is left and forces the runtime once', async () => {
    const { served, adapter, calls } = setup({}, { holdMaxMs: 0 });
    void served.wrap(() => new Promise(() => {}))(new Request('http://x/'), undefined);
    await adapter.stopAccepting({ signal: never });
    const deadline = new AbortController();
    const drained = adapter.drain({ signal: deadline.signal });
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', requestsCut: 1 });
    adapter.forceClose();
    expect(calls).toEqual(['closeListener', 'forceClose']);
  });

  it('tracks upgraded connections apart: handed out by upgraded(), destroyed by forceClose()', () => {
    const { served, adapter } = setup();
    const destroyed: string[] = [];
    const closer = { close: () => {}, destroy: (ws: string) => destroyed.push(ws) };
    const a = served.upgradedOpened('ws-a', closer);
    served.upgradedOpened('ws-b', closer);
    served.upgradedClosed(a);
    expect(adapter.upgraded()).toEqual(['ws-b']);
    expect(adapter.stats()).toMatchObject({ connections: 1, upgraded: 1 });
    expect(adapter.forceClose()).toBe(1);
    expect(destroyed).toEqual(['ws-b']);
  });

  it('ready() resolves once the runtime listens, and never when it cannot', async () => {
    const listening = deferred();
    const { adapter } = setup({ listening: listening.promise });
    let ready = false;
    void adapter.ready().then(() => (ready = true));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ready).toBe(false);
    listening.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ready).toBe(true);
    const failed = setup({ listening: Promise.reject(new Error('EADDRINUSE')) }).adapter;
    let settled = false;
    void failed.ready().then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toBe(false);
    await expect(setup().adapter.ready()).resolves.toBeUndefined();
  });
});

describe('createFetchAdapter: long-lived connections', () => {
  /** A WebSocket of the stand-in runtime: records its frames; `answer()` is the peer's Close. */
  function webSocketRuntime(served: ReturnType<typeof setup>['served'], log: string[]) {
    const connections = new Map<string, ReturnType<typeof served.upgradedOpened>>();
    const closer = { close: () => {}, destroy: (ws: string) => log.push(`destroy ${ws}`) };
    const webSocket = { close: (ws: string, code: number) => log.push(`${ws} close ${code}`) };
    return {
      open: (ws: string) => connections.set(ws, served.upgradedOpened(ws, closer, webSocket)),
      answer: (ws: string) => served.upgradedClosed(connections.get(ws)!),
    };
  }

  it('sends every WebSocket a Close frame with 1001 before the listener closes, and awaits the handshake', async () => {
    const log: string[] = [];
    const { served, adapter } = setup({ closeListener: () => void log.push('closeListener') }, { holdMaxMs: 0 });
    const ws = webSocketRuntime(served, log);
    ws.open('a');
    adapter.beginShutdown();
    const stopping = adapter.stopAccepting({ signal: never });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(log).toEqual(['a close 1001']); // the listener waits for the handshake
    ws.answer('a');
    await stopping;
    expect(log).toEqual(['a close 1001', 'closeListener']);
    expect(await adapter.drain({ signal: never })).toMatchObject({ outcome: 'drained', upgradedClosed: 1, upgradedForceClosed: 0 });
  });

  it('sends 1012 for a restart; a silent peer holds the listener open no longer than webSocketCloseTimeoutMs', async () => {
    const log: string[] = [];
    const { served, adapter, clock } = setup({ closeListener: () => void log.push('closeListener') }, { holdMaxMs: 0, webSocketCloseTimeoutMs: 300 });
    webSocketRuntime(served, log).open('silent');
    adapter.beginShutdown({ reason: 'restart' });
    const stopping = adapter.stopAccepting({ signal: never });
    await clock.advance(299);
    expect(log).toEqual(['silent close 1012']);
    await clock.advance(1);
    await stopping;
    expect(log).toEqual(['silent close 1012', 'closeListener']);
    // Still open at the deadline: destroyed and counted as cut.
    const deadline = new AbortController();
    const drained = adapter.drain({ signal: deadline.signal });
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', upgradedClosed: 0, upgradedForceClosed: 1 });
    expect(log).toContain('destroy silent');
  });

  it('the first beginShutdown decides the reason', async () => {
    const log: string[] = [];
    const { served, adapter, clock } = setup({}, { holdMaxMs: 0, webSocketCloseTimeoutMs: 10 });
    webSocketRuntime(served, log).open('a');
    adapter.beginShutdown();
    adapter.beginShutdown({ reason: 'restart' });
    const stopping = adapter.stopAccepting({ signal: never });
    await clock.advance(10);
    await stopping;
    expect(log).toEqual(['a close 1001']);
  });

  it('WebSockets keep working during the lame duck; from the farewell on an upgrade request gets 503 with Retry-After and Connection: close', async () => {
    const { served, adapter } = setup({}, { holdMaxMs: 0 });
    let upgrades = 0;
    const handler = served.wrap(() => {
      upgrades++;
      return new Response('switched'); // a runtime's 101, which Node's Response cannot make
    });
    const upgrade = () => new Request('http://x/ws', { headers: { upgrade: 'websocket', connection: 'Upgrade' } });
    adapter.beginShutdown();
    expect(await (handler(upgrade(), undefined) as Response).text()).toBe('switched'); // the lame duck
    await adapter.stopAccepting({ signal: never });
    const refused = (await handler(upgrade(), undefined)) as Response;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('connection')).toBe('close');
    expect(upgrades).toBe(1);
    expect(await ((await handler(new Request('http://x/'), undefined)) as Response).text()).toBe('switched'); // plain requests still reach the app
  });

  it('counts the streams under way when the drain starts (per-request delivery) and those cut at the deadline', async () => {
    const delivered = [deferred(), deferred()];
    const { served, adapter } = setup({ delivery: { completed: (context) => (context as { done: Promise<void> }).done } }, { holdMaxMs: 0 });
    adapter.beginShutdown();
    const handler = served.wrap(ok);
    handler(new Request('http://x/events'), { done: delivered[0]!.promise });
    handler(new Request('http://x/events'), { done: delivered[1]!.promise });
    await adapter.stopAccepting({ signal: never });
    const deadline = new AbortController();
    const drained = adapter.drain({ signal: deadline.signal });
    delivered[0]!.resolve(); // the application ended this one on the shutdown signal
    await new Promise((resolve) => setTimeout(resolve, 0));
    deadline.abort();
    expect(await drained).toMatchObject({ outcome: 'forced', streamsAtStart: 2, streamsCut: 1, requestsCut: 1 });
  });

  it("counts the streams under way by the runtime's pending count", async () => {
    const runtime = { pending: 1 };
    const { adapter, clock } = setup({ delivery: { pending: () => runtime.pending } }, { holdMaxMs: 0 });
    await adapter.stopAccepting({ signal: never });
    const drained = adapter.drain({ signal: never });
    runtime.pending = 0;
    await clock.advance(60);
    expect(await drained).toMatchObject({ outcome: 'drained', streamsAtStart: 1, streamsCut: 0 });
  });
});

describe('createFetchAdapter: options', () => {
  it.each([
    ['runtime', null, {}],
    ['runtime.name', { closeListener: () => {}, forceClose: () => {} }, {}],
    ['runtime.closeListener', { name: 'x', forceClose: () => {} }, {}],
    ['runtime.forceClose', { name: 'x', closeListener: () => {} }, {}],
    ['options', { name: 'x', closeListener: () => {}, forceClose: () => {} }, 'x'],
    ['idleGraceMs', { name: 'x', closeListener: () => {}, forceClose: () => {} }, { idleGraceMs: -1 }],
    ['holdMaxMs', { name: 'x', closeListener: () => {}, forceClose: () => {} }, { holdMaxMs: Number.NaN }],
    ['onError', { name: 'x', closeListener: () => {}, forceClose: () => {} }, { onError: 'page' }],
    ['webSocketCloseTimeoutMs', { name: 'x', closeListener: () => {}, forceClose: () => {} }, { webSocketCloseTimeoutMs: -5 }],
  ])('rejects a bad %s with an error naming it', (option, runtime, options) => {
    const attempt = () => createFetchAdapter(runtime as never, options as never);
    expect(attempt).toThrow(DrainOptionError);
    expect(attempt).toThrow(expect.objectContaining({ option }));
  });

  it('rejects a handler that is not a function', () => {
    expect(() => setup().served.wrap('x' as never)).toThrow(expect.objectContaining({ option: 'handler' }));
  });
});
