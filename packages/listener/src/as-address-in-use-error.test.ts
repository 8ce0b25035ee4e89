import { type Server, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listeningSocket } from '@quiesce/test-support';
import { asAddressInUseError } from './as-address-in-use-error.ts';
import { AddressInUseError, ListenerOptionError } from './errors.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) if (server.listening) server.close();
});

describe('asAddressInUseError', () => {
  it('explains a real EADDRINUSE from a listen, naming the holder', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const second = createServer();
    const failure = await new Promise<Error>((resolve) => {
      second.once('error', resolve);
      second.listen(holder.port, '127.0.0.1');
    });
    const error = await asAddressInUseError(failure, { port: holder.port, host: '127.0.0.1' });
    expect(error).toBeInstanceOf(AddressInUseError);
    expect(error!.cause).toBe(failure);
    expect(error!.message).toContain(`Held by pid ${process.pid} (`);
  });

  it('reads the code on the error or its cause, as Bun and Deno errors carry it', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const bunLike = Object.assign(new Error(`Failed to start server. Is port ${holder.port} in use?`), { code: 'EADDRINUSE' });
    const wrapped = new Error('serve failed', { cause: bunLike });
    expect((await asAddressInUseError(bunLike, { port: holder.port }))?.diagnosis.listening).toBe(true);
    expect(await asAddressInUseError(wrapped, { port: holder.port })).toBeInstanceOf(AddressInUseError);
  });

  it('leaves other errors alone and returns an AddressInUseError as it is', async () => {
    expect(await asAddressInUseError(Object.assign(new Error('denied'), { code: 'EACCES' }), { port: 80 })).toBeUndefined();
    expect(await asAddressInUseError('EADDRINUSE', { port: 80 })).toBeUndefined();
    const holder = await listeningSocket();
    servers.push(holder.server);
    const first = await asAddressInUseError({ code: 'EADDRINUSE' }, { port: holder.port });
    expect(await asAddressInUseError(first, { port: holder.port })).toBe(first);
  });

  it.each([
    [null, 'target'],
    [{ port: 0 }, 'target.port'],
    [{ port: 80, host: '' }, 'target.host'],
  ])('refuses target %j', async (target, option) => {
    await expect(asAddressInUseError(new Error('x'), target as never)).rejects.toMatchObject({ option });
    await expect(asAddressInUseError(new Error('x'), target as never)).rejects.toBeInstanceOf(ListenerOptionError);
  });
});
