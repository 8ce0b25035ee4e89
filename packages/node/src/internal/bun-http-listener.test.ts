import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { NodeAdapterOptionError } from '../errors.ts';
import { bunHttpListener } from './bun-http-listener.ts';

// What the adapter asks of Bun's node:http Server, on a stand-in that counts the calls (the real
// server runs in the conformance suite's Bun processes: frameworks.test.ts).
function bunLikeServer() {
  const calls = { close: 0, closeIdleConnections: 0 };
  return {
    calls,
    close(): void {
      calls.close++;
    },
    closeIdleConnections(): void {
      calls.closeIdleConnections++;
    },
  };
}

/** A response that went out with this `Connection` header (none: keep-alive). */
function responseWith(connection?: string): ServerResponse {
  return { getHeader: (name: string) => (name === 'connection' ? connection : undefined) } as unknown as ServerResponse;
}

const socket = {} as Socket;
const microtasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('bunHttpListener', () => {
  it('closes idle sockets through the server, one sweep for every socket the drain finds idle in one look', async () => {
    const server = bunLikeServer();
    const { closer } = bunHttpListener(server, { tcpKeepAliveMs: false, idleGraceMs: 250, clock: new ManualClock() });
    // Bun closes them a loop turn later (or not at all while a request head arrives): never "closed on return".
    expect([closer.close(socket), closer.close(socket), closer.close(socket)]).toEqual([false, false, false]);
    await microtasks();
    expect(server.calls.closeIdleConnections).toBe(1);
    closer.close(socket);
    await microtasks();
    expect(server.calls.closeIdleConnections).toBe(2);
  });

  it('sweeps only once every socket a response left open has been idle for the grace', async () => {
    const clock = new ManualClock(1_000);
    const server = bunLikeServer();
    const listener = bunHttpListener(server, { tcpKeepAliveMs: false, idleGraceMs: 250, clock });
    listener.responseEnded(responseWith()); // keep-alive: its socket is idle from now on, as Bun sees it
    await clock.advance(100);
    listener.closer.close(socket); // another socket, idle past the grace
    await microtasks();
    expect(server.calls.closeIdleConnections).toBe(0);
    await clock.advance(149);
    expect(server.calls.closeIdleConnections).toBe(0);
    await clock.advance(1);
    expect(server.calls.closeIdleConnections).toBe(1);
  });

  it('does not wait for a response that closed its connection', async () => {
    const clock = new ManualClock(1_000);
    const server = bunLikeServer();
    const listener = bunHttpListener(server, { tcpKeepAliveMs: false, idleGraceMs: 250, clock });
    listener.responseEnded(responseWith('close'));
    listener.responseEnded(responseWith('Close'));
    listener.closer.close(socket);
    await microtasks();
    expect(server.calls.closeIdleConnections).toBe(1);
  });

  it('dispose cancels a sweep that waits', async () => {
    const clock = new ManualClock();
    const server = bunLikeServer();
    const listener = bunHttpListener(server, { tcpKeepAliveMs: false, idleGraceMs: 250, clock });
    listener.responseEnded(responseWith());
    listener.closer.close(socket);
    await microtasks();
    expect(clock.pendingTimers).toBe(1);
    listener.dispose();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1_000);
    expect(server.calls.closeIdleConnections).toBe(0);
  });

  it('closes the listener with the server’s own close(), and destroys a socket at the deadline', () => {
    const server = bunLikeServer();
    const listener = bunHttpListener(server, { tcpKeepAliveMs: false, idleGraceMs: 250, clock: new ManualClock() });
    listener.close();
    expect(server.calls).toEqual({ close: 1, closeIdleConnections: 0 });
    let destroyed = 0;
    listener.closer.destroy({ destroy: () => destroyed++ } as unknown as Socket);
    expect(destroyed).toBe(1);
  });

  it('refuses a server that cannot close its idle connections, naming the listener option and serveBun', () => {
    const attempt = () => bunHttpListener({ close() {} }, { tcpKeepAliveMs: false, idleGraceMs: 250, clock: new ManualClock() });
    expect(attempt).toThrow(NodeAdapterOptionError);
    expect(attempt).toThrow(/^Invalid listener: undefined\. Expected a node:net Server, because this server is no net\.Server and cannot close its idle connections/);
    expect(attempt).toThrow(/serveBun from @quiesce\/bun/);
  });

  it('refuses tcpKeepAliveMs, which the sockets of Bun’s node:http ignore, naming the listener option', () => {
    const attempt = () => bunHttpListener(bunLikeServer(), { tcpKeepAliveMs: 30_000, idleGraceMs: 250, clock: new ManualClock() });
    expect(attempt).toThrow(NodeAdapterOptionError);
    expect(attempt).toThrow(/^Invalid tcpKeepAliveMs: 30000\. Expected false on Bun's node:http Server, whose sockets ignore setKeepAlive\(\).*createNodeAdapter's listener option/);
  });
});
