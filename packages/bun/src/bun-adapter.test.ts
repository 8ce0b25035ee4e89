import { describe, expect, it } from 'vitest';
import { serveBun } from './bun-adapter.ts';
import { BunAdapterOptionError, BunRuntimeError, BunUnsupportedOptionError } from './errors.ts';

// Options are validated before the runtime is touched, so these run here on Node; the behaviour on
// Bun is tested through real Bun processes in packages/conformance/src/suites/fetch-adapters.test.ts.
const fetch = (): Response => new Response('ok');

describe('serveBun options', () => {
  it('refuses fd, which Bun.serve ignores (it binds port 3000 instead), with a stable code', () => {
    const attempt = () => serveBun({ fd: 3, fetch } as never);
    expect(attempt).toThrow(BunUnsupportedOptionError);
    expect(attempt).toThrow(/Unsupported fd: 3\. Bun\.serve ignores fd/);
    expect(attempt).toThrow(expect.objectContaining({ code: 'QUIESCE_BUN_UNSUPPORTED_OPTION', option: 'fd' }));
  });

  it.each([
    ['a Response', { '/': new Response('static') }, 'routes["/"]'],
    ['a Response for one method', { '/': { GET: new Response('static') } }, 'routes["/"].GET'],
    ['a directory', { '/static/*': { dir: './public' } }, 'routes["/static/*"]'],
  ])('refuses a static route (%s): Bun would answer it without the adapter', (_kind, routes, option) => {
    const attempt = () => serveBun({ routes, fetch } as never);
    expect(attempt).toThrow(expect.objectContaining({ name: 'BunUnsupportedOptionError', option }));
    expect(attempt).toThrow(/Return the value from a function instead/);
  });

  it.each([
    ['options', null, {}],
    ['fetch', { fetch: 'nope' }, {}],
    ['fetch', {}, {}],
    ['error', { fetch, error: 42 }, {}],
    ['websocket', { fetch, websocket: null }, {}],
    ['routes', { routes: [] }, {}],
    ['adapterOptions', { fetch }, 'fast'],
    ['idleGraceMs', { fetch }, { idleGraceMs: -1 }],
    ['idleGraceMs', { fetch }, { idleGraceMs: Number.NaN }],
    ['holdMaxMs', { fetch }, { holdMaxMs: Number.POSITIVE_INFINITY }],
    ['tracker', { fetch }, { tracker: {} }],
    ['inherit', { fetch }, { inherit: 'yes' }],
    ['warn', { fetch }, { warn: 'loud' }],
  ])('rejects a bad %s with an error naming it', (option, options, adapterOptions) => {
    const attempt = () => serveBun(options as never, adapterOptions as never);
    expect(attempt).toThrow(BunAdapterOptionError);
    expect(attempt).toThrow(new RegExp(`^Invalid ${option}: `));
    expect(attempt).toThrow(expect.objectContaining({ code: 'QUIESCE_BUN_INVALID_OPTION', option }));
  });

  it('passes tracker options to the tracker it creates (their errors name the option)', () => {
    expect(() => serveBun({ fetch }, { preconnectGraceMs: -1 })).toThrow(/Invalid preconnectGraceMs: -1/);
  });

  it('accepts function routes and method maps, then needs Bun to run (BunRuntimeError on Node)', () => {
    const routes = { '/a': fetch, '/b': { GET: fetch, POST: fetch }, '/c': false };
    const attempt = () => serveBun({ routes, fetch } as never);
    expect(attempt).toThrow(BunRuntimeError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'QUIESCE_BUN_RUNTIME_MISSING' }));
    expect(attempt).toThrow(/On Node use @quiesce\/node/);
  });

  it('error classes take a cause', () => {
    const cause = new Error('root');
    expect(new BunAdapterOptionError('x', 1, 'y', { cause }).cause).toBe(cause);
    expect(new BunUnsupportedOptionError('x', 1, 'y', { cause }).cause).toBe(cause);
    expect(new BunRuntimeError({ cause }).cause).toBe(cause);
  });
});
