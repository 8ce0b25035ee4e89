import { describe, expect, it } from 'vitest';
import { route } from './routes.ts';

const serving = { ready: true, live: true };
const url = (path: string) => new URL(path, 'http://example.test');

describe('route', () => {
  it('answers the four routes', () => {
    expect(route('GET', url('/'), serving).status).toBe(200);
    expect(route('GET', url('/slow?ms=250'), serving)).toMatchObject({ status: 200, delayMs: 250 });
    expect(route('GET', url('/healthz'), serving).status).toBe(200);
    expect(route('GET', url('/readyz'), serving).status).toBe(200);
  });

  it('turns /readyz to 503 from the signal on, while /healthz stays 200', () => {
    const stopping = { ready: false, live: true };
    expect(route('GET', url('/readyz'), stopping).status).toBe(503);
    expect(route('GET', url('/healthz'), stopping).status).toBe(200);
  });

  it('marks /events as the event stream and /ws as the WebSocket echo (426 for a plain request)', () => {
    expect(route('GET', url('/events'), serving)).toMatchObject({ status: 200, special: 'events' });
    expect(route('GET', url('/ws'), serving)).toMatchObject({ status: 426, special: 'websocket' });
  });

  it('rejects a bad /slow duration and unknown paths and methods', () => {
    expect(route('GET', url('/slow?ms=abc'), serving).status).toBe(400);
    expect(route('GET', url('/slow?ms=999999999'), serving).status).toBe(400);
    expect(route('GET', url('/nope'), serving).status).toBe(404);
    expect(route('POST', url('/'), serving).status).toBe(405);
  });
});
