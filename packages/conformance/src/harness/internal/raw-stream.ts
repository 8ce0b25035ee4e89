import { type Socket, connect } from 'node:net';
import { ConnectFailure, ProtocolFailure, RefusedFailure } from '../errors.ts';
import type { ClosedBy } from '../raw-http.ts';

/** A response head read off a raw connection, and what came after it. */
export interface RawHead {
  readonly socket: Socket;
  /** The status line, e.g. `HTTP/1.1 101 Switching Protocols`. */
  readonly statusLine: string;
  /** Header names lowercased. */
  readonly headers: Record<string, string>;
  /** Bytes after the head (the start of the body or of the frames). */
  readonly rest: Buffer;
}

/**
 * Connects to `host:port`, writes `request` (raw bytes) and resolves with the response head once it
 * is complete, the socket paused with its listeners removed (attach yours, then `resume()`). Rejects with
 * {@link RefusedFailure} / {@link ConnectFailure} when the connection fails, {@link ProtocolFailure}
 * when no head arrives within `timeoutMs`.
 */
export function readRawHead(host: string, port: number, request: string, timeoutMs: number): Promise<RawHead> {
  return new Promise<RawHead>((resolve, reject) => {
    const socket = connect({ port, host });
    let head = Buffer.alloc(0);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new ProtocolFailure(`no response head within ${timeoutMs} ms`)), timeoutMs);
    const onError = (error: NodeJS.ErrnoException): void => {
      const errno = typeof error.code === 'string' ? error.code : 'UNKNOWN';
      fail(errno === 'ECONNREFUSED' ? new RefusedFailure(host, port, { cause: error }) : new ConnectFailure(errno, host, port, { cause: error }));
    };
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      // Nothing is read (and lost) until the reader attaches and resumes.
      socket.pause();
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ socket, statusLine: lines[0] ?? '', headers, rest: head.subarray(end + 4) });
    };
    socket.once('error', onError);
    socket.once('connect', () => socket.write(request));
    socket.on('data', onData);
  });
}

/**
 * Follows how a raw connection ends, first cause: `fin`, `reset` (ECONNRESET / EPIPE), `error`, or
 * `local` once closed without either; calls `onEnd` each time something was learned.
 */
export function watchEnd(socket: Socket, onEnd: (how: ClosedBy) => void): void {
  socket.on('end', () => onEnd('fin'));
  socket.on('error', (error: NodeJS.ErrnoException) => onEnd(error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'reset' : 'error'));
  socket.on('close', () => onEnd('local'));
}

/**
 * Wakes waiters when a reader learned something: `until(test, timeoutMs)` resolves with the first
 * value `test` returns that is not `undefined` (asked again at every `wake()`), or `timeout`.
 */
export class Waiters {
  readonly #wakers = new Set<() => void>();

  wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  async until<T>(test: () => T | undefined, timeoutMs: number): Promise<T | 'timeout'> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = test();
      if (value !== undefined) return value;
      const left = deadline - performance.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#wakers.add(wake);
      });
    }
  }
}
