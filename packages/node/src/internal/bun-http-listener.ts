import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '@quiesce/core';
import type { SocketCloser } from '@quiesce/drain';
import { NodeAdapterOptionError } from '../errors.ts';

/** The part of Bun's `node:http` Server the adapter uses. */
interface ClosesItsOwnListener {
  close(): unknown;
  closeIdleConnections(): void;
}

/**
 * How the adapter stops accepting on a `node:http` Server that is no `net.Server`: Bun's (1.4),
 * which serves through Bun's own HTTP engine. Measured there (and pinned by the conformance suite,
 * `frameworks.test.ts`):
 * - the only way to close its listening socket is its own `close()`, which closes every idle
 *   keep-alive socket with it (as `closeIdleConnections()` would), and lets busy ones finish;
 * - its sockets report `bytesRead` 0 whatever arrived, so the drain cannot see a request head that
 *   is still arriving; `closeIdleConnections()` can: it leaves such a socket open;
 * - its sockets ignore `setKeepAlive()` (no keepalive timer in the kernel).
 * So the adapter holds responses before every close (not only after `Connection: close` answers),
 * times every response's departure, and closes the sockets the drain finds idle through Bun.
 */
export interface BunHttpListener {
  /** Closes the listening socket; Bun closes every idle keep-alive socket with it. */
  close(): void;
  /** How the drain closes this server's sockets: idle ones through Bun, at the deadline at once. */
  readonly closer: SocketCloser<Socket>;
  /** Called as each response ends: one that leaves its socket open makes it young-idle. */
  responseEnded(res: ServerResponse): void;
  /** Cancels a pending sweep. */
  dispose(): void;
}

/**
 * Checks that `server`, a `node:http` Server that is no `net.Server`, can be drained without a
 * `node:net` listener, and returns how. Throws {@link NodeAdapterOptionError} naming what to use
 * instead: when it has no `close()` / `closeIdleConnections()`, or when `tcpKeepAliveMs` is asked
 * for (Bun's sockets ignore it).
 */
export function bunHttpListener(
  server: object,
  options: { tcpKeepAliveMs: number | false; idleGraceMs: number; clock: Clock },
): BunHttpListener {
  const candidate = server as Partial<ClosesItsOwnListener>;
  if (typeof candidate.close !== 'function' || typeof candidate.closeIdleConnections !== 'function') {
    throw new NodeAdapterOptionError(
      'listener',
      undefined,
      "a node:net Server, because this server is no net.Server and cannot close its idle connections (no closeIdleConnections()): listen with net.createServer(), hand each connection over with server.emit('connection', socket) and pass that net.Server as listener; on Bun, serveBun from @quiesce/bun serves a fetch handler with the same drain",
    );
  }
  if (options.tcpKeepAliveMs !== false) {
    throw new NodeAdapterOptionError(
      'tcpKeepAliveMs',
      options.tcpKeepAliveMs,
      "false on Bun's node:http Server, whose sockets ignore setKeepAlive() (the kernel's keepalive stays off); TCP keepalive on Bun needs node:net sockets: createNodeAdapter's listener option, a net.Server that hands each connection over with server.emit('connection', socket)",
    );
  }
  const bun = server as ClosesItsOwnListener;
  const { idleGraceMs, clock } = options;
  /** When a response last ended that left its socket open (idle from then on, as Bun sees it). */
  let keptOpenAt = Number.NEGATIVE_INFINITY;
  let sweepQueued = false;
  let timer: TimerHandle | undefined;

  // closeIdleConnections() closes every idle socket, not one: sweep once per look of the drain, and
  // not before every socket Bun would close has been idle for the grace (a response that began
  // before the shutdown, with keep-alive, may have ended a moment ago).
  const sweep = (): void => {
    sweepQueued = false;
    timer = undefined;
    const wait = keptOpenAt + idleGraceMs - clock.now();
    if (wait > 0) {
      timer = clock.setTimeout(sweep, Math.ceil(wait));
      return;
    }
    bun.closeIdleConnections();
  };

  return {
    close(): void {
      bun.close();
    },
    closer: {
      // Bun closes it a loop turn later (its 'close' then reports it), or leaves it open while a
      // request head arrives: that request is answered with Connection: close, which closes it.
      close(): boolean {
        if (!sweepQueued && timer === undefined) {
          sweepQueued = true;
          queueMicrotask(sweep);
        }
        return false;
      },
      destroy(socket: Socket): void {
        socket.destroy();
      },
    },
    responseEnded(res: ServerResponse): void {
      if (!closesItsConnection(res)) keptOpenAt = clock.now();
    },
    dispose(): void {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** The response went out with `Connection: close` (the adapter's, from shutdown on, or the app's). */
function closesItsConnection(res: ServerResponse): boolean {
  const value = res.getHeader('connection');
  return typeof value === 'string' && value.toLowerCase() === 'close';
}
