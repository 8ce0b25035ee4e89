import { describe, expect, it } from 'vitest';
import { serveDeno } from './deno-adapter.ts';
import { DenoAdapterOptionError, DenoRuntimeError, DenoUnsupportedOptionError, DenoWebSocketUnsupportedError } from './errors.ts';
import { upgradeWebSocket } from './upgrade-websocket.ts';

// Options are validated before the runtime is touched, so these run here on Node; the behaviour on
// Deno (reusePort included) is tested through real Deno processes in
// packages/conformance/src/suites/fetch-adapters.test.ts.
const handler = (): Response => new Response('ok');

describe('serveDeno options', () => {
  it('refuses fd, which Deno.serve ignores (it binds a port instead), with a stable code', () => {
    const attempt = () => serveDeno({ fd: 3, handler } as never);
    expect(attempt).toThrow(DenoUnsupportedOptionError);
    expect(attempt).toThrow(/Unsupported fd: 3\. Deno\.serve cannot adopt a socket/);
    expect(attempt).toThrow(expect.objectContaining({ code: 'QUIESCE_DENO_UNSUPPORTED_OPTION', option: 'fd' }));
  });

  it.each([
    ['options', null, {}],
    ['handler', {}, {}],
    ['handler', { handler: 'nope' }, {}],
    ['onError', { handler, onError: 1 }, {}],
    ['signal', { handler, signal: {} }, {}],
    ['adapterOptions', { handler }, 'fast'],
    ['idleGraceMs', { handler }, { idleGraceMs: -1 }],
    ['holdMaxMs', { handler }, { holdMaxMs: Number.NaN }],
    ['tracker', { handler }, { tracker: {} }],
    ['inherit', { handler }, { inherit: 1 }],
    ['warn', { handler }, { warn: true }],
  ])('rejects a bad %s with an error naming it', (option, options, adapterOptions) => {
    const attempt = () => serveDeno(options as never, adapterOptions as never);
    expect(attempt).toThrow(DenoAdapterOptionError);
    expect(attempt).toThrow(new RegExp(`^Invalid ${option}: `));
    expect(attempt).toThrow(expect.objectContaining({ code: 'QUIESCE_DENO_INVALID_OPTION', option }));
  });

  it('passes tracker options to the tracker it creates (their errors name the option)', () => {
    expect(() => serveDeno({ handler }, { preconnectGraceMs: -1 })).toThrow(/Invalid preconnectGraceMs: -1/);
  });

  it('needs Deno to run: DenoRuntimeError on Node', () => {
    const attempt = () => serveDeno({ handler });
    expect(attempt).toThrow(DenoRuntimeError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'QUIESCE_DENO_RUNTIME_MISSING' }));
    expect(attempt).toThrow(/On Node use @quiesce\/node/);
  });

  it('upgradeWebSocket needs Deno too: DenoRuntimeError on Node', () => {
    expect(() => upgradeWebSocket(new Request('http://x/ws', { headers: { upgrade: 'websocket' } }))).toThrow(DenoRuntimeError);
  });

  it('error classes take a cause', () => {
    const cause = new Error('root');
    expect(new DenoAdapterOptionError('x', 1, 'y', { cause }).cause).toBe(cause);
    expect(new DenoUnsupportedOptionError('x', 1, 'y', { cause }).cause).toBe(cause);
    expect(new DenoRuntimeError({ cause }).cause).toBe(cause);
    expect(new DenoWebSocketUnsupportedError({ cause })).toMatchObject({ cause, code: 'QUIESCE_DENO_WEBSOCKET_UNSUPPORTED' });
  });
});
