import { type EventChannel, eventChannel } from './event-channel.ts';

/*
 * The event catalog: every diagnostics channel Quiesce publishes on, its stable name and its
 * message. Names and fields are public API: a field may be added, never renamed or removed without
 * a major version. Messages are published synchronously at the moment they describe, and only
 * while someone subscribes (the publisher checks `hasSubscribers` before building one). Durations
 * are milliseconds on the publisher's clock (an injected `ManualClock` in tests); a subscriber that
 * wants wall-clock time stamps a message when it arrives.
 */

/** The steps of a shutdown in the order they start; `lame-duck` and `deregister` run together. */
type ShutdownPhaseId = 'lame-duck' | 'deregister' | 'stop-accepting' | 'drain' | 'cleanup';

/** `quiesce:shutdown:start`: a lifecycle began its shutdown sequence (once per lifecycle). */
export interface ShutdownStartMessage {
  /** Numbers the shutdowns of this process from 1; every `quiesce:shutdown:*` message of one shutdown carries it. */
  readonly shutdownId: number;
  /** What started it: a signal name (`SIGTERM`), `manual`, `restart`, or an error description. */
  readonly reason: string;
  /** `restart` when a successor takes over (hot restart, `quiesce run` roll), else `shutdown`. */
  readonly kind: 'shutdown' | 'restart';
  /** The server adapter's name: `node`, `bun`, `deno`, `express`, `fastify`. */
  readonly adapter: string;
  readonly deadlineMs: number;
  readonly lameDuckMs: number;
  /** Time kept back for cleanup hooks at the end of the deadline; 0 when there are none. */
  readonly cleanupReserveMs: number;
}

/** `quiesce:shutdown:phase:start`: one step of the sequence began. */
export interface ShutdownPhaseStartMessage {
  readonly shutdownId: number;
  readonly phase: ShutdownPhaseId;
  /** Milliseconds after the start of the shutdown. */
  readonly startMs: number;
}

/** `quiesce:shutdown:phase:end`: one step of the sequence ended (the same fields as the report's `phases`). */
export interface ShutdownPhaseEndMessage {
  readonly shutdownId: number;
  readonly phase: ShutdownPhaseId;
  readonly startMs: number;
  readonly durationMs: number;
}

/** `quiesce:hook:end`: one shutdown hook ended (the same fields as `@quiesce/hooks`' `HookResult`). */
export interface HookEndMessage {
  /** The hook's name; for a lifecycle's registries, the registry's (`etcd`, `consul`, `etcd.close`). */
  readonly name: string;
  /** Its phase; a lifecycle's are `deregister`, `shutdown` (beside the drain) and `cleanup`. */
  readonly phase: string;
  /** `ok`, `error` (threw or rejected), `timeout` (its own limit), `aborted` (the deadline came first). */
  readonly status: 'ok' | 'error' | 'timeout' | 'aborted';
  readonly durationMs: number;
  /** What it threw, or the timeout or deadline error; `undefined` when `ok`. */
  readonly error: unknown;
}

/** Hook counts by status, as in `@quiesce/hooks`' `HookTotals`. */
export interface HookTotalsMessage {
  readonly total: number;
  readonly ok: number;
  readonly error: number;
  readonly timeout: number;
  readonly aborted: number;
}

/** One set of hooks in a shutdown report (`@quiesce/hooks`' `HooksReport`). */
export interface HookRunMessage {
  readonly durationMs: number;
  /** True when the deadline cut the run short. */
  readonly deadlineHit: boolean;
  /** True when every hook ended `ok`. */
  readonly ok: boolean;
  readonly totals: HookTotalsMessage;
  readonly hooks: readonly HookEndMessage[];
}

/**
 * `quiesce:drain:progress`: the counts of a draining tracker after each look it takes (when a grace
 * ends or a look confirms one), unless that look ended the drain (then `quiesce:drain:end` follows).
 */
export interface DrainProgressMessage {
  /** The tracker's state: `closing` (lame duck), `draining`, `drained`, `forced`. */
  readonly state: string;
  /** Open connections, upgraded ones included. */
  readonly connections: number;
  /** Open connections with no request in flight. */
  readonly idle: number;
  /** Upgraded connections (WebSocket and the like). */
  readonly upgraded: number;
  /** Requests in flight. */
  readonly inFlight: number;
}

/**
 * How a connection ended during a shutdown: `idle` (the drain closed it with FIN after the idle
 * grace), `preconnect` (the same for a connection that never sent a request), `response-last`
 * (closed after its last response, which carried `Connection: close`), `peer` (it closed on its
 * own with no response of the shutdown before: the client closed it, or, upgraded, its protocol
 * did, e.g. a WebSocket closed with 1001), `forced` (destroyed at the deadline or by an immediate
 * stop). A connection the drain closed with FIN stays `idle` / `preconnect` even when the deadline
 * comes before the runtime reports the close.
 */
export type ConnectionCloseHow = 'idle' | 'preconnect' | 'response-last' | 'peer' | 'forced';

/**
 * `quiesce:drain:connection-closed`: a connection closed, from the start of the shutdown on (never
 * while serving); once per connection. Only runtimes that hand connections to the drain publish it
 * (Node; Bun and Deno keep their connections to themselves).
 */
export interface ConnectionClosedMessage {
  readonly how: ConnectionCloseHow;
  /**
   * Requests in flight on it when it closed: those the deadline cut (`forced`) or the client
   * abandoned (`peer`); 0 otherwise. (Not a count over its life: that would cost every request a
   * write, for every connection, whether anyone listens or not.)
   */
  readonly inFlight: number;
  /** True for an upgraded connection (WebSocket and the like). */
  readonly upgraded: boolean;
}

/** `quiesce:drain:end`: a drain ended (the same fields as `@quiesce/drain`'s `DrainReport`). */
export interface DrainEndMessage {
  /** `drained`: everything finished in time; `forced`: the deadline cut the rest. */
  readonly outcome: 'drained' | 'forced';
  readonly durationMs: number;
  readonly inFlightAtStart: number;
  readonly requestsCompleted: number;
  /** Requests still in flight when the deadline force-closed their connection. */
  readonly requestsCut: number;
  readonly idleClosed: number;
  readonly preconnectsClosed: number;
  readonly forceClosed: number;
  readonly upgradedAtStart: number;
  /** Upgraded connections (WebSockets) closed from the start of shutdown on, not cut. */
  readonly upgradedClosed: number;
  readonly upgradedForceClosed: number;
  /** Streaming responses (Server-Sent Events, downloads) under way when the drain began. */
  readonly streamsAtStart: number;
  /** Streaming responses cut at the deadline. */
  readonly streamsCut: number;
}

/** `quiesce:shutdown:end`: the shutdown report, final; the deadline was hit exactly when `outcome` is `forced`. */
export interface ShutdownEndMessage {
  readonly shutdownId: number;
  readonly reason: string;
  /** `clean`, `failed` (a hook failed or timed out), `forced` (the deadline cut requests, sockets or hooks). */
  readonly outcome: 'clean' | 'failed' | 'forced';
  readonly exitCode: number;
  readonly durationMs: number;
  readonly deadlineMs: number;
  readonly phases: readonly { readonly name: ShutdownPhaseId; readonly startMs: number; readonly durationMs: number }[];
  readonly drain: DrainEndMessage;
  readonly deregistration: HookRunMessage;
  readonly hooks: HookRunMessage;
  readonly cleanup: HookRunMessage;
}

/** `quiesce:registry:call`: a registry call ended (the same fields as `@quiesce/registry`'s `RegistryResult`). */
export interface RegistryCallMessage {
  /** `etcd`, `consul`, `etcd+consul`. */
  readonly registry: string;
  readonly operation: 'register' | 'deregister' | 'close';
  readonly outcome: 'ok' | 'error' | 'timeout';
  readonly durationMs: number;
  /** The etcd key or Consul service ID concerned, when there is one. */
  readonly entry: string | undefined;
  readonly error: Error | undefined;
}

/** Which restart mechanism a generation or restart message comes from. */
export type RestartMode = 'hot-restart' | 'supervisor';

/** The fields every `quiesce:generation:*` message has. */
export interface GenerationMessage {
  readonly mode: RestartMode;
  /** `quiesce run` numbers its generations from 1; `undefined` for a hot restart's successor. */
  readonly generation: number | undefined;
  readonly pid: number;
}

/** `quiesce:generation:spawned`: a generation's process was started. */
export type GenerationSpawnedMessage = GenerationMessage;

/** `quiesce:generation:ready`: a generation reported readiness. */
export interface GenerationReadyMessage extends GenerationMessage {
  /** Milliseconds from its start to its readiness. */
  readonly readyMs: number;
}

/** `quiesce:generation:failed`: a generation was not ready in time or exited first, and was given up. */
export interface GenerationFailedMessage extends GenerationMessage {
  readonly reason: string;
}

/**
 * `quiesce:generation:retired`: a generation was told to stop, once: its successor serves, it failed
 * to get ready (after `failed`), or `quiesce run` stops.
 */
export interface GenerationRetiredMessage extends GenerationMessage {
  /** The signal it was sent, or `STOP=restart` when a roll asked it on its control channel. */
  readonly signal: string;
}

/** `quiesce:generation:exited`: a generation's process exited. */
export interface GenerationExitedMessage extends GenerationMessage {
  /** The exit code, 128 + n for a signal. */
  readonly exitCode: number;
  /** What it was doing: `serving` means it exited on its own while serving (a crash). */
  readonly while: 'starting' | 'serving' | 'stopping';
}

/**
 * `quiesce:restart:end`: a hot restart or a `quiesce run` roll ended. A hot restart that `restarted`
 * ends the moment the new process serves, just before this process's own shutdown (reason
 * `restart`) begins, so that the telemetry that shutdown flushes carries it; `durationMs` runs to
 * that moment. A roll ends once the old generation was told to stop.
 */
export interface RestartEndMessage {
  readonly mode: RestartMode;
  /**
   * Hot restart: `restarted`, `rolled-back`, `delegated` (asked `quiesce run` to roll instead);
   * supervisor: `rolled`, `rolled-back`, `skipped` (it was stopping).
   */
  readonly outcome: 'restarted' | 'rolled' | 'rolled-back' | 'delegated' | 'skipped';
  readonly durationMs: number;
  /** The new process's pid, when one was started. */
  readonly pid: number | undefined;
  /** Why it was rolled back or skipped. */
  readonly reason: string | undefined;
}

/** Every channel of the catalog, by role. */
export interface QuiesceChannels {
  readonly shutdownStart: EventChannel<ShutdownStartMessage>;
  readonly shutdownPhaseStart: EventChannel<ShutdownPhaseStartMessage>;
  readonly shutdownPhaseEnd: EventChannel<ShutdownPhaseEndMessage>;
  readonly shutdownEnd: EventChannel<ShutdownEndMessage>;
  readonly hookEnd: EventChannel<HookEndMessage>;
  readonly drainProgress: EventChannel<DrainProgressMessage>;
  readonly connectionClosed: EventChannel<ConnectionClosedMessage>;
  readonly drainEnd: EventChannel<DrainEndMessage>;
  readonly registryCall: EventChannel<RegistryCallMessage>;
  readonly generationSpawned: EventChannel<GenerationSpawnedMessage>;
  readonly generationReady: EventChannel<GenerationReadyMessage>;
  readonly generationFailed: EventChannel<GenerationFailedMessage>;
  readonly generationRetired: EventChannel<GenerationRetiredMessage>;
  readonly generationExited: EventChannel<GenerationExitedMessage>;
  readonly restartEnd: EventChannel<RestartEndMessage>;
}

/**
 * The channels Quiesce publishes on, with their stable names. Subscribe with
 * `node:diagnostics_channel` by name, or through these objects; publishers check `hasSubscribers`
 * first, so an unsubscribed channel costs one property read. Works on Node (≥ 20.16), Bun and Deno;
 * elsewhere nothing is published.
 *
 * | channel | published by | when |
 * | --- | --- | --- |
 * | `quiesce:shutdown:start` | lifecycle | the shutdown sequence starts |
 * | `quiesce:shutdown:phase:start` / `:end` | lifecycle | each step starts / ends |
 * | `quiesce:shutdown:end` | lifecycle | the report is final (before telemetry is flushed) |
 * | `quiesce:hook:end` | hooks | a hook ended |
 * | `quiesce:drain:progress` | drain | a look of the drain (counts) |
 * | `quiesce:drain:connection-closed` | drain | a connection closed during shutdown, and how |
 * | `quiesce:drain:end` | drain | the drain ended (counts, requests cut) |
 * | `quiesce:registry:call` | registry | register / deregister / close ended |
 * | `quiesce:generation:spawned` / `ready` / `failed` / `retired` / `exited` | listener | a generation's life |
 * | `quiesce:restart:end` | listener | a hot restart or a `quiesce run` roll ended |
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 *
 * subscribe('quiesce:shutdown:end', (message) => {
 *   const { outcome, durationMs, drain } = message as ShutdownEndMessage;
 *   console.log(`shutdown ${outcome} in ${durationMs} ms, ${drain.requestsCut} requests cut`);
 * });
 * ```
 */
export const quiesceChannels: QuiesceChannels = Object.freeze({
  shutdownStart: eventChannel<ShutdownStartMessage>('quiesce:shutdown:start'),
  shutdownPhaseStart: eventChannel<ShutdownPhaseStartMessage>('quiesce:shutdown:phase:start'),
  shutdownPhaseEnd: eventChannel<ShutdownPhaseEndMessage>('quiesce:shutdown:phase:end'),
  shutdownEnd: eventChannel<ShutdownEndMessage>('quiesce:shutdown:end'),
  hookEnd: eventChannel<HookEndMessage>('quiesce:hook:end'),
  drainProgress: eventChannel<DrainProgressMessage>('quiesce:drain:progress'),
  connectionClosed: eventChannel<ConnectionClosedMessage>('quiesce:drain:connection-closed'),
  drainEnd: eventChannel<DrainEndMessage>('quiesce:drain:end'),
  registryCall: eventChannel<RegistryCallMessage>('quiesce:registry:call'),
  generationSpawned: eventChannel<GenerationSpawnedMessage>('quiesce:generation:spawned'),
  generationReady: eventChannel<GenerationReadyMessage>('quiesce:generation:ready'),
  generationFailed: eventChannel<GenerationFailedMessage>('quiesce:generation:failed'),
  generationRetired: eventChannel<GenerationRetiredMessage>('quiesce:generation:retired'),
  generationExited: eventChannel<GenerationExitedMessage>('quiesce:generation:exited'),
  restartEnd: eventChannel<RestartEndMessage>('quiesce:restart:end'),
});
