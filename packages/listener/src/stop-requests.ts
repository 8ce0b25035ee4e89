import { createReadStream, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { type EnvOptions, listenEnvFrom } from './internal/env-options.ts';
import type { ListenEnv } from './internal/listen-env.ts';

/** What a starter may ask of this process: stop because it goes away, or because a new one took over. */
export type StopRequest = 'shutdown' | 'restart';

/** Options for {@link listenForStopRequests}: where the inherited variables are read. */
export type StopRequestOptions = Pick<EnvOptions, 'env' | 'warn'>;

/** One open channel per process (per environment object), shared by every listener. */
interface Channel {
  readonly handlers: Set<(request: StopRequest) => void>;
  readonly reader: Readable;
}

const channels = new WeakMap<ListenEnv, Channel>();

/**
 * Listens for stop requests from whoever started this process: `quiesce run` asks the old
 * generation of a roll to stop with `restart`, instead of sending SIGTERM, so that it tells its
 * clients the truth (WebSockets get 1012, Service Restart, and the lifecycle's signal says
 * `restart`). `createLifecycle(...).install()` calls it; call it yourself only without a lifecycle.
 *
 * The protocol, the same on Node, Bun and Deno: the starter passes one end of a socket pair and
 * names its fd in `QUIESCE_CONTROL_FD`. This process writes `CONTROL=1\n` once it listens, which
 * tells the starter to ask rather than signal; the starter then writes `STOP=restart\n` (or
 * `STOP=shutdown\n`) when this process is to stop. Unknown lines are ignored; the starter keeps its
 * SIGKILL bound either way. Without a channel (started otherwise) this does nothing.
 *
 * Calls `onStop` for each request. Returns a function that stops listening; once no listener is
 * left the channel is closed, and the starter signals again (SIGTERM). The channel never keeps
 * the process alive on Node and Deno; on Bun, whose `node:net` cannot read a socket it is handed,
 * a file stream reads it until this is called.
 *
 * @example
 * ```ts
 * const stop = listenForStopRequests((request) => void lifecycle.shutdown(request));
 * // later, when shutting down for any reason:
 * stop();
 * ```
 */
export function listenForStopRequests(onStop: (request: StopRequest) => void, options: StopRequestOptions = {}): () => void {
  const state = listenEnvFrom({ ...options });
  if (state.controlFd === undefined) return () => {};
  let channel = channels.get(state);
  if (channel === undefined) {
    const opened = openChannel(state.controlFd, (request) => {
      for (const handler of [...(channels.get(state)?.handlers ?? [])]) handler(request);
    });
    if (opened === undefined) return () => {};
    channel = { handlers: new Set(), reader: opened };
    channels.set(state, channel);
  }
  const handler = (request: StopRequest): void => onStop(request);
  channel.handlers.add(handler);
  return () => {
    const current = channels.get(state);
    if (current === undefined || !current.handlers.delete(handler) || current.handlers.size > 0) return;
    current.reader.destroy();
    // Closed for good: the starter sees the end and signals from now on.
    state.controlFd = undefined;
    channels.delete(state);
  };
}

/** Opens the channel on `fd`, says `CONTROL=1`, and calls `onRequest` for each `STOP=` line. */
function openChannel(fd: number, onRequest: (request: StopRequest) => void): Readable | undefined {
  let reader: Readable;
  let say: (line: string) => void;
  try {
    if ('Bun' in globalThis) {
      // Bun's node:net cannot read a socket it is handed (the read fails as closed); its fs can.
      reader = createReadStream('', { fd });
      say = (line) => void writeSync(fd, line);
    } else {
      const socket = new Socket({ fd, readable: true, writable: true });
      socket.unref();
      reader = socket;
      say = (line) => void socket.write(line);
    }
  } catch {
    return undefined;
  }
  let pending = '';
  reader.on('data', (chunk: Buffer | string) => {
    pending += chunk.toString();
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line === 'STOP=restart' || line === 'STOP=shutdown') onRequest(line === 'STOP=restart' ? 'restart' : 'shutdown');
    }
  });
  // A starter that went away (a hot-restart parent exits) just ends the channel.
  reader.on('error', () => {});
  try {
    say('CONTROL=1\n');
  } catch {
    reader.destroy();
    return undefined;
  }
  return reader;
}
