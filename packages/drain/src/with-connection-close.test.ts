import { describe, expect, it } from 'vitest';
import { withConnectionClose } from './with-connection-close.ts';

describe('withConnectionClose', () => {
  it('sets Connection: close, replacing a keep-alive the handler set', async () => {
    const response = new Response('ok', { status: 201, headers: { connection: 'keep-alive', 'x-a': '1' } });
    const closed = withConnectionClose(response);
    expect(closed).toBe(response);
    expect(closed.headers.get('connection')).toBe('close');
    expect(closed.headers.get('x-a')).toBe('1');
    expect(await closed.text()).toBe('ok');
  });

  it('copies a response whose headers are immutable (Response.redirect), keeping status and headers', () => {
    const redirect = Response.redirect('http://example.test/next', 307);
    expect(() => redirect.headers.set('x', 'y')).toThrow(TypeError);
    const closed = withConnectionClose(redirect);
    expect(closed).not.toBe(redirect);
    expect(closed.status).toBe(307);
    expect(closed.headers.get('location')).toBe('http://example.test/next');
    expect(closed.headers.get('connection')).toBe('close');
  });

  it('leaves Response.error() alone', () => {
    const error = Response.error();
    expect(withConnectionClose(error)).toBe(error);
  });
});
