/** How often `/events` sends a tick. */
export const TICK_MS = 100;

/** Where the events go: a Node response, or a ReadableStream's controller. */
export interface EventSink {
  write(chunk: string): void;
  end(): void;
}

/** A running `/events` stream; `cancel()` when the client went away. */
export interface TickEvents {
  cancel(): void;
}

/**
 * The example's Server-Sent Events, independent of the runtime: `data: tick N` every 100 ms (the
 * first at once); when `drainStarted` aborts (the lifecycle's signal: the listener has closed), one
 * last `event: shutdown` whose data is `shutdown` or `restart`, then the end of the stream (the
 * runtime sends the chunked terminator, and the connection closes with FIN). During the lame duck
 * the ticks go on.
 *
 * @example
 * ```ts
 * const ticks = tickEvents(lifecycle.signal, { write: (chunk) => res.write(chunk), end: () => res.end() });
 * res.once('close', () => ticks.cancel());
 * ```
 */
export function tickEvents(drainStarted: AbortSignal, sink: EventSink, intervalMs: number = TICK_MS): TickEvents {
  let count = 0;
  let done = false;
  const tick = (): void => sink.write(`data: tick ${++count}\n\n`);
  const stop = (): void => {
    done = true;
    clearInterval(timer);
    drainStarted.removeEventListener('abort', onDrain);
  };
  const onDrain = (): void => {
    if (done) return;
    stop();
    const kind = (drainStarted.reason as { kind?: unknown } | undefined)?.kind === 'restart' ? 'restart' : 'shutdown';
    sink.write(`event: shutdown\ndata: ${kind}\n\n`);
    sink.end();
  };
  const timer = setInterval(tick, intervalMs);
  drainStarted.addEventListener('abort', onDrain, { once: true });
  tick();
  if (drainStarted.aborted) onDrain();
  return { cancel: stop };
}

/** The headers of `/events`. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

/** `/events` as a fetch body (Bun, Deno): a stream of {@link tickEvents}, cancelled when the client goes. */
export function tickEventStream(drainStarted: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let ticks: TickEvents | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      ticks = tickEvents(drainStarted, {
        write: (chunk) => controller.enqueue(encoder.encode(chunk)),
        end: () => controller.close(),
      });
    },
    cancel() {
      ticks?.cancel();
    },
  });
}
