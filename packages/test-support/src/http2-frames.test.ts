import { once } from 'node:events';
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openHttp2Frames } from './http2-frames.ts';

describe('openHttp2Frames', () => {
  it('speaks HTTP/2 by hand: a GET is answered, and the GOAWAY and PING the server sends are recorded, not answered', async () => {
    const server = createServer((req, res) => res.end(`hello ${req.url}`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sessions: import('node:http2').ServerHttp2Session[] = [];
    server.on('session', (session) => sessions.push(session));
    const client = await openHttp2Frames(url);
    try {
      const id = client.request('/a');
      expect(id).toBe(1);
      await client.waitFor((frame) => frame.type === 'DATA' && frame.streamId === id && (frame.flags & 1) !== 0);
      expect(client.body(id)).toBe('hello /a');
      expect(client.ended(id)).toBe(true);
      sessions[0]!.goaway(0, 2 ** 31 - 1);
      sessions[0]!.ping(() => {});
      const goaway = await client.waitFor((frame) => frame.type === 'GOAWAY');
      expect(goaway).toMatchObject({ lastStreamId: 2 ** 31 - 1, errorCode: 0 });
      const ping = await client.waitFor((frame) => frame.type === 'PING' && (frame.flags & 1) === 0);
      client.pingAck(ping);
      expect(client.request('/b')).toBe(3);
    } finally {
      client.destroy();
      for (const session of sessions) session.destroy();
      server.close();
    }
  });
});
