import type { Duplex } from 'node:stream';

/** The starter's end of a generation's control channel (see `listenForStopRequests`). */
export interface ControlChannel {
  /** The generation said `CONTROL=1` and has not closed the channel since: it acts on `STOP=` lines. */
  readonly listening: boolean;
  /**
   * Asks the generation to stop with `request` (`STOP=restart\n`) when it listens. Returns whether
   * the line went out; when it did not, signal the generation instead.
   */
  requestStop(request: 'shutdown' | 'restart'): boolean;
  /** Closes this end (the generation exited, or it is left to run on its own). Idempotent. */
  close(): void;
}

/**
 * Wraps the starter's end of a socket pair whose other end a generation got as `QUIESCE_CONTROL_FD`.
 * The channel never keeps the starter's event loop alive. `stream` may be `null` (the spawn
 * failed): the channel then never listens.
 */
export function controlChannel(stream: Duplex | null | undefined): ControlChannel {
  let listening = false;
  let closed = stream == null;
  if (stream) {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        if (pending.slice(0, end).trim() === 'CONTROL=1' && !closed) listening = true;
        pending = pending.slice(end + 1);
      }
    });
    const gone = (): void => {
      listening = false;
    };
    stream.on('end', gone);
    stream.on('close', gone);
    stream.on('error', gone);
    (stream as Duplex & { unref?: () => void }).unref?.();
  }
  return {
    get listening() {
      return listening;
    },
    requestStop(request) {
      if (!listening || closed || !stream || !stream.writable) return false;
      stream.write(`STOP=${request}\n`);
      return true;
    },
    close() {
      if (closed) return;
      closed = true;
      listening = false;
      stream?.destroy();
    },
  };
}
