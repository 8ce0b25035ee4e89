import { Socket } from 'node:net';
import { listenEnvFrom } from './internal/env-options.ts';

/** Options for {@link reportReady}. */
export interface ReportReadyOptions {
  /** The environment the inherited variables were read from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where a warning about ignored variables goes. Default `console.warn`; `false` for silence. */
  warn?: ((line: string) => void) | false;
}

/**
 * Tells whoever started this process with sockets (`quiesce run`, or the parent of a hot restart)
 * that it is ready to serve, so that the old generation may stop. The protocol: the starter passes
 * the write end of a pipe and names its fd in QUIESCE_READY_FD; the child writes `READY=1\n` to it
 * and closes it. It works the same on Node, Bun and Deno (through `node:net`). {@link acquire} calls
 * it once every inherited socket is adopted, unless `readiness: 'manual'`. Resolves `true` when the
 * message was written, `false` when there is nobody to tell or it was already told; never rejects.
 *
 * @example
 * ```ts
 * await acquire(server, { port: 3000, readiness: 'manual' });
 * await warmUpCaches();
 * await reportReady();
 * ```
 */
export function reportReady(options: ReportReadyOptions = {}): Promise<boolean> {
  const state = listenEnvFrom(options);
  if (state.readyFd === undefined || state.readyReported) return Promise.resolve(false);
  state.readyReported = true;
  const fd = state.readyFd;
  return new Promise<boolean>((resolve) => {
    let socket: Socket;
    try {
      socket = new Socket({ fd, readable: false, writable: true });
    } catch {
      resolve(false);
      return;
    }
    socket.once('error', () => resolve(false));
    socket.end('READY=1\n', () => resolve(true));
  });
}
