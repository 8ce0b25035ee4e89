import type { Server } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fixturesBeside, get, killAllChildren, LISTEN_PID_WRAPPER, listeningSocket, startChild } from '@quiesce/test-support';
import { ListenerOptionError } from './errors.ts';
import { inheritedListeners } from './inherited-listeners.ts';

const fixture = fixturesBeside(import.meta.url);

afterAll(() => killAllChildren());

describe('inheritedListeners: what is not for us is ignored with one warning line', () => {
  const read = (env: Record<string, string | undefined>, pid = 4242) => {
    const warnings: string[] = [];
    const listeners = inheritedListeners({ env, pid, warn: (line) => warnings.push(line) });
    return { listeners, warnings, env };
  };

  it('returns nothing and says nothing when no variable is set', () => {
    const { listeners, warnings } = read({ PATH: '/bin' });
    expect(listeners).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('ignores sockets meant for another pid, and clears the variables', () => {
    const { listeners, warnings, env } = read({ LISTEN_FDS: '1', LISTEN_PID: '999', LISTEN_FDNAMES: 'http', QUIESCE_READY_FD: '4', PATH: '/bin' });
    expect(listeners).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/LISTEN_PID=999 is not this process \(pid 4242\)/);
    expect(env).toEqual({ PATH: '/bin' });
  });

  it.each([
    [{ LISTEN_FDS: 'abc', LISTEN_PID: '4242' }, /LISTEN_FDS="abc" is not a count/],
    [{ LISTEN_FDS: '-1', LISTEN_PID: '4242' }, /LISTEN_FDS="-1" is not a count/],
    [{ LISTEN_FDS: '2x', LISTEN_PID: '4242' }, /LISTEN_FDS="2x" is not a count/],
    [{ LISTEN_FDS: '99999', LISTEN_PID: '4242' }, /LISTEN_FDS="99999" is not a count/],
    [{ LISTEN_FDS: '1', LISTEN_PID: 'me' }, /LISTEN_PID="me" is not a process id/],
    [{ LISTEN_FDS: '1' }, /without LISTEN_PID/],
    [{ LISTEN_PID: '4242' }, /LISTEN_PID is set without LISTEN_FDS/],
    [{ QUIESCE_READY_FD: '5' }, /without LISTEN_FDS and LISTEN_PID/],
  ])('ignores garbage %j with one warning and clears it', (vars, message) => {
    const { listeners, warnings, env } = read({ ...vars, HOME: '/root' });
    expect(listeners).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(message);
    expect(warnings[0]).not.toMatch(/\n/);
    expect(env).toEqual({ HOME: '/root' });
  });

  it('ignores a count of sockets that are not open', () => {
    // This process does not have 900 descriptors open from fd 3 on.
    const { listeners, warnings } = read({ LISTEN_FDS: '900', LISTEN_PID: String(process.pid) }, process.pid);
    expect(listeners).toEqual([]);
    expect(warnings[0]).toMatch(/fd \d+ is not (open|a socket)|is a socket that is not listening/);
  });

  it('LISTEN_FDS=0 means no sockets, silently', () => {
    const { listeners, warnings } = read({ LISTEN_FDS: '0', LISTEN_PID: '4242' });
    expect(listeners).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('answers later calls from memory once the variables are gone, without warning twice', () => {
    const env: Record<string, string | undefined> = { LISTEN_FDS: 'x', LISTEN_PID: '4242' };
    const warnings: string[] = [];
    inheritedListeners({ env, pid: 4242, warn: (line) => warnings.push(line) });
    expect(inheritedListeners({ env, pid: 4242, warn: (line) => warnings.push(line) })).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it.each([
    [{ env: null }, 'env'],
    [{ env: 'LISTEN_FDS=1' }, 'env'],
    [{ env: {}, pid: 0 }, 'pid'],
    [{ env: {}, pid: 1.5 }, 'pid'],
    [{ env: {}, warn: 'stderr' }, 'warn'],
  ])('refuses bad options %j naming the option', (options, option) => {
    let caught: unknown;
    try {
      inheritedListeners(options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ListenerOptionError);
    expect((caught as ListenerOptionError).option).toBe(option);
    expect((caught as ListenerOptionError).code).toBe('QUIESCE_LISTENER_INVALID_OPTION');
  });
});

describe('adopting sockets passed as fd 3+ (real child processes)', () => {
  const held: Server[] = [];
  afterEach(async () => {
    for (const server of held.splice(0)) if (server.listening) server.close();
    await killAllChildren();
  });

  interface Acquired {
    pid: number;
    listener: { source: string; fd?: number; name?: string; port: number };
    inherited: { fd: number; name: string }[];
    left: string[];
    child: string;
  }
  const acquiredLine = (line: string): Acquired => JSON.parse(line.slice('acquired '.length)) as Acquired;

  it('adopts a valid socket, reports ready on the pipe, serves on it, and clears the variables for its own children', async () => {
    const socket = await listeningSocket();
    held.push(socket.server);
    const child = startChild([...LISTEN_PID_WRAPPER, process.execPath, fixture('adopt-server.mjs')], {
      env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'web', QUIESCE_READY_FD: '4', PORT: '0' },
      extraStdio: [socket.fd, 'pipe'],
    });
    const ready = new Promise<string>((resolve) => {
      let text = '';
      child.process.stdio[4]!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\n')) resolve(text);
      });
    });
    expect(await ready).toBe('READY=1\n');
    const acquired = acquiredLine(await child.waitForLine(/^acquired /));
    expect(acquired.pid).toBe(child.pid);
    expect(acquired.listener).toMatchObject({ source: 'inherited', fd: 3, name: 'web', port: socket.port });
    expect(acquired.inherited).toEqual([{ fd: 3, name: 'web' }]);
    expect(acquired.left).toEqual([]);
    expect(acquired.child).toBe('unset unset unset unset');
    // Only the child may accept from now on: the socket survives our close because the child holds it.
    socket.server.close();
    const response = await get(socket.port);
    expect(response.pid).toBe(child.pid);
  });

  it('adopts the socket named by `name` among several', async () => {
    const first = await listeningSocket();
    const second = await listeningSocket();
    held.push(first.server, second.server);
    const child = startChild([...LISTEN_PID_WRAPPER, process.execPath, fixture('adopt-server.mjs')], {
      env: { LISTEN_FDS: '2', LISTEN_FDNAMES: 'public:admin', ACQUIRE_NAME: 'admin' },
      extraStdio: [first.fd, second.fd],
    });
    const acquired = acquiredLine(await child.waitForLine(/^acquired /));
    expect(acquired.listener).toMatchObject({ source: 'inherited', fd: 4, name: 'admin', port: second.port });
    expect(acquired.inherited).toEqual([
      { fd: 3, name: 'public' },
      { fd: 4, name: 'admin' },
    ]);
  });

  it('names sockets "unknown" with a warning when LISTEN_FDNAMES does not match the count', async () => {
    const socket = await listeningSocket();
    held.push(socket.server);
    const child = startChild([...LISTEN_PID_WRAPPER, process.execPath, fixture('adopt-server.mjs')], {
      env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'a:b' },
      extraStdio: [socket.fd],
    });
    const acquired = acquiredLine(await child.waitForLine(/^acquired /));
    expect(acquired.listener).toMatchObject({ source: 'inherited', fd: 3, name: 'unknown' });
    expect(child.stderr.join('\n')).toMatch(/LISTEN_FDNAMES="a:b" does not name 1 socket/);
  });

  it('binds its own port, with one warning, when LISTEN_PID is another process', async () => {
    const socket = await listeningSocket();
    held.push(socket.server);
    // No wrapper: LISTEN_PID names our pid, not the child's.
    const child = startChild([process.execPath, fixture('adopt-server.mjs')], {
      env: { LISTEN_FDS: '1', LISTEN_PID: String(process.pid) },
      extraStdio: [socket.fd],
    });
    const acquired = acquiredLine(await child.waitForLine(/^acquired /));
    expect(acquired.listener.source).toBe('bound');
    expect(acquired.listener.port).not.toBe(socket.port);
    expect(acquired.left).toEqual([]);
    expect(acquired.child).toBe('unset unset unset unset');
    const warnings = child.stderr.filter((line) => line.includes('quiesce:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`LISTEN_PID=${process.pid} is not this process \\(pid ${child.pid}\\)`));
  });

  it('binds its own port, with one warning, when LISTEN_FDS is garbage', async () => {
    const child = startChild([...LISTEN_PID_WRAPPER, process.execPath, fixture('adopt-server.mjs')], {
      env: { LISTEN_FDS: 'three', LISTEN_FDNAMES: 'web' },
    });
    const acquired = acquiredLine(await child.waitForLine(/^acquired /));
    expect(acquired.listener.source).toBe('bound');
    expect(acquired.child).toBe('unset unset unset unset');
    expect(child.stderr.filter((line) => line.includes('quiesce:'))).toEqual([
      expect.stringMatching(/LISTEN_FDS="three" is not a count of sockets/),
    ]);
  });

  it('refuses an fd that is not a listening socket', async () => {
    // fd 3 is one end of a socket pair (what Node makes for a 'pipe'), not a listening socket.
    const child = startChild([...LISTEN_PID_WRAPPER, process.execPath, fixture('adopt-server.mjs')], {
      env: { LISTEN_FDS: '1' },
      extraStdio: ['pipe'],
    });
    const acquired = acquiredLine(await child.waitForLine(/^acquired /));
    expect(acquired.listener.source).toBe('bound');
    expect(child.stderr.join('\n')).toMatch(/fd 3 is a socket that is not listening/);
  });
});
