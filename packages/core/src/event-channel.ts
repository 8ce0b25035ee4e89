import { InvalidOptionError } from './errors.ts';

/** Receives one published message and the name of the channel it came on. */
export type ChannelListener<Message> = (message: Message, name: string) => void;

/**
 * A named `diagnostics_channel` channel seen through web-standard code: packages that may not
 * import `node:` modules (hooks, drain, registry) publish on it, and anyone subscribes to it by
 * name with `node:diagnostics_channel` itself (`subscribe('quiesce:shutdown:end', fn)`) or with
 * {@link EventChannel.subscribe}. On a runtime without `diagnostics_channel` nothing is published
 * and {@link EventChannel.hasSubscribers} stays `false`.
 *
 * Publish only after checking {@link EventChannel.hasSubscribers}, so that nobody pays for building
 * a message nobody reads:
 *
 * ```ts
 * if (channel.hasSubscribers) channel.publish({ how: 'idle', inFlight: 0, upgraded: false });
 * ```
 */
export interface EventChannel<Message> {
  /** The channel's name, e.g. `quiesce:shutdown:end`. */
  readonly name: string;
  /** True while at least one listener subscribes. A property read: cheap enough for any path. */
  readonly hasSubscribers: boolean;
  /**
   * Hands `message` to every subscriber, synchronously, in subscription order. A subscriber that
   * throws does not stop the others nor reach the publisher: the runtime rethrows it on the next
   * tick as an uncaught exception (Node's rule, which Bun and Deno follow), so subscribers must not throw.
   */
  publish(message: Message): void;
  /** Adds a listener. Returns `false` (and adds nothing) on a runtime without `diagnostics_channel`. */
  subscribe(listener: ChannelListener<Message>): boolean;
  /** Removes a listener added by either way of subscribing. Returns whether it was subscribed. */
  unsubscribe(listener: ChannelListener<Message>): boolean;
}

/** The part of a runtime's `node:diagnostics_channel` that Quiesce uses. */
interface DiagnosticsChannelModule {
  channel(name: string): { readonly hasSubscribers: boolean; publish(message: unknown): void };
  subscribe(name: string, listener: (message: unknown, name: string | symbol) => void): void;
  unsubscribe(name: string, listener: (message: unknown, name: string | symbol) => void): boolean;
}

type NativeChannel = ReturnType<DiagnosticsChannelModule['channel']>;

/** `undefined` until first use; `null` when the runtime has no `diagnostics_channel`. */
let runtimeModule: DiagnosticsChannelModule | null | undefined;

/**
 * The runtime's `node:diagnostics_channel`, found at first use through `process.getBuiltinModule`
 * (Node ≥ 20.16, Bun, Deno 2): a static `node:` import would fail the neutral build of the core
 * packages and break them on runtimes that have no such module, where events are simply off.
 */
function diagnosticsChannel(): DiagnosticsChannelModule | null {
  if (runtimeModule !== undefined) return runtimeModule;
  runtimeModule = null;
  try {
    const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const found = typeof runtime?.getBuiltinModule === 'function' ? runtime.getBuiltinModule('node:diagnostics_channel') : undefined;
    if (isDiagnosticsChannelModule(found)) runtimeModule = found;
  } catch {
    // A runtime that refuses the lookup has no channels for us: events stay off.
  }
  return runtimeModule;
}

function isDiagnosticsChannelModule(value: unknown): value is DiagnosticsChannelModule {
  const module = value as Partial<DiagnosticsChannelModule> | null | undefined;
  return (
    typeof module === 'object' &&
    module !== null &&
    typeof module.channel === 'function' &&
    typeof module.subscribe === 'function' &&
    typeof module.unsubscribe === 'function'
  );
}

class RuntimeEventChannel<Message> implements EventChannel<Message> {
  readonly name: string;
  /** Held strongly: the runtime keeps channels in a weak map, and this one must stay the one subscribers find. */
  #channel: NativeChannel | null | undefined;

  constructor(name: string) {
    this.name = name;
  }

  get hasSubscribers(): boolean {
    const channel = this.#channel === undefined ? this.#resolve() : this.#channel;
    return channel?.hasSubscribers ?? false;
  }

  publish(message: Message): void {
    const channel = this.#channel === undefined ? this.#resolve() : this.#channel;
    channel?.publish(message);
  }

  subscribe(listener: ChannelListener<Message>): boolean {
    const module = diagnosticsChannel();
    if (module === null) return false;
    this.#resolve();
    module.subscribe(this.name, listener as (message: unknown, name: string | symbol) => void);
    return true;
  }

  unsubscribe(listener: ChannelListener<Message>): boolean {
    const module = diagnosticsChannel();
    return module?.unsubscribe(this.name, listener as (message: unknown, name: string | symbol) => void) ?? false;
  }

  #resolve(): NativeChannel | null {
    this.#channel ??= diagnosticsChannel()?.channel(this.name) ?? null;
    return this.#channel;
  }
}

/**
 * Returns the channel named `name` (nothing is looked up or created in the runtime until first use,
 * so calling this at import time has no side effect). Two calls with one name share the runtime's
 * one channel. Throws {@link InvalidOptionError} when `name` is not a non-empty string.
 *
 * @example
 * ```ts
 * const closed = eventChannel<{ how: string }>('my-lib:connection:closed');
 * if (closed.hasSubscribers) closed.publish({ how: 'idle' });
 * ```
 */
export function eventChannel<Message>(name: string): EventChannel<Message> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidOptionError('name', name, 'a non-empty channel name such as "quiesce:shutdown:end"');
  }
  return new RuntimeEventChannel<Message>(name);
}
