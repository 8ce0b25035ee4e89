import type { ShutdownReason } from '@quiesce/drain';

/**
 * What kind of stop a shutdown is: `restart` when a new process takes over (a hot restart, whose
 * `stop` calls `lifecycle.shutdown('restart')`; a `quiesce run` roll, which asks with
 * `STOP=restart`), else `shutdown`.
 */
export type ShutdownKind = ShutdownReason;

/**
 * The reason of {@link Lifecycle.signal} once it aborts: the drain has started (the listener is
 * closed, so a client that reconnects lands on another instance). `kind` says whether the server
 * goes away or restarts; a stream can tell its client (`event: shutdown`, `data: restart`).
 *
 * @example
 * ```ts
 * lifecycle.signal.addEventListener('abort', () => {
 *   const { kind } = lifecycle.signal.reason as DrainStartedError; // 'shutdown' | 'restart'
 *   console.log(`draining for a ${kind}`);
 * });
 * ```
 */
export class DrainStartedError extends Error {
  override readonly name: string = 'DrainStartedError';
  readonly code: 'QUIESCE_DRAIN_STARTED' = 'QUIESCE_DRAIN_STARTED';
  /** `shutdown` or `restart`. */
  readonly kind: ShutdownKind;

  constructor(kind: ShutdownKind, options?: { cause?: unknown }) {
    super(
      kind === 'restart'
        ? 'The server restarts: its listener is closed and it drains. End long-lived work (streams, long polls) now; clients reconnect to the new process.'
        : 'The server shuts down: its listener is closed and it drains. End long-lived work (streams, long polls) now; clients reconnect elsewhere.',
      options,
    );
    this.kind = kind;
  }
}

/** The kind of a shutdown started with `reason` (`lifecycle.shutdown(reason)`, a signal name …). */
export function shutdownKindOf(reason: string): ShutdownKind {
  return reason === 'restart' ? 'restart' : 'shutdown';
}
