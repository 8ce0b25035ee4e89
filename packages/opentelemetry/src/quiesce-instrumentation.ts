import { type MeterProvider, type TracerProvider, diag, metrics, trace } from '@opentelemetry/api';
import { type ChannelListener, type Clock, Deadline, type EventChannel, quiesceChannels, systemClock } from '@quiesce/core';
import { OpenTelemetryOptionError, check } from './errors.ts';
import { ShutdownTelemetry } from './internal/shutdown-telemetry.ts';

/** A provider that may buffer: the SDK's providers have `forceFlush()`; the API's global proxy hands it to its delegate. */
interface Flushable {
  forceFlush?(): Promise<void>;
  getDelegate?(): { forceFlush?(): Promise<void> };
}

/** Options for {@link createQuiesceInstrumentation} and `instrumentLifecycle`. */
export interface QuiesceInstrumentationOptions {
  /** Where spans go, e.g. the SDK's `BasicTracerProvider` / `NodeTracerProvider`. Default: the global one (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go, e.g. the SDK's `MeterProvider`. Default: the global one (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /**
   * Upper bound of one {@link QuiesceInstrumentation.flush}, in ms (finite, > 0), on top of the
   * signal it is given (the lifecycle's deadline). Default 5 000.
   */
  flushTimeoutMs?: number;
  /** Times the flush bound. Default `systemClock`; inject a `ManualClock` in tests. */
  clock?: Clock;
}

/** Options for {@link QuiesceInstrumentation.flush}. */
export interface FlushOptions {
  /** Stops waiting when it aborts (the shutdown deadline); the flush then resolves `timeout`. */
  signal?: AbortSignal;
}

/** How a flush ended. It never rejects. */
export interface FlushResult {
  /** `ok`: both providers flushed; `error`: one rejected; `timeout`: the signal or `flushTimeoutMs` came first. */
  readonly outcome: 'ok' | 'error' | 'timeout';
  readonly durationMs: number;
  /** Why it was not `ok`: the provider's rejection, or the deadline's reason. */
  readonly error: unknown;
}

/** A running instrumentation; see {@link createQuiesceInstrumentation}. */
export interface QuiesceInstrumentation {
  /** False on a runtime without `diagnostics_channel`: nothing is recorded there. */
  readonly active: boolean;
  /**
   * Flushes the tracer and meter providers (`forceFlush()`), bounded by `signal` and
   * `flushTimeoutMs`: a flush that hangs is abandoned (it may still finish in the background)
   * and the result says `timeout`. Never rejects.
   */
  flush(options?: FlushOptions): Promise<FlushResult>;
  /** Unsubscribes from every channel and ends spans still open. Idempotent. */
  dispose(): void;
}

const INSTRUMENTATION_NAME = '@quiesce/opentelemetry';
const DEFAULT_FLUSH_TIMEOUT_MS = 5_000;

/**
 * Subscribes to Quiesce's event channels ({@link quiesceChannels}) and records, from then on:
 * - a `quiesce.shutdown` span per shutdown, with one child span per phase (`quiesce.lame-duck`,
 *   `quiesce.deregister`, `quiesce.stop-accepting`, `quiesce.drain`, `quiesce.cleanup`) whose
 *   attributes say what each did (drain counts, hooks and their failures as span events,
 *   registry calls), ended when the report is final; a `quiesce.restart` span per hot restart or roll;
 * - metrics: shutdown and phase durations, deadline hits, connections closed by how, requests cut,
 *   deregistration outcomes, registry calls, restarts and generation events.
 * Nothing is flushed by itself: call {@link QuiesceInstrumentation.flush}, or use
 * `instrumentLifecycle`, which makes the flush the shutdown's last step. Throws
 * {@link OpenTelemetryOptionError} on bad options.
 *
 * @example
 * ```ts
 * const instrumentation = createQuiesceInstrumentation({ tracerProvider, meterProvider });
 * // … later, once the shutdown report is out:
 * await instrumentation.flush({ signal: AbortSignal.timeout(2_000) });
 * ```
 */
export function createQuiesceInstrumentation(options: QuiesceInstrumentationOptions = {}): QuiesceInstrumentation {
  check.object('options', options);
  const { tracerProvider = trace.getTracerProvider(), meterProvider = metrics.getMeterProvider(), flushTimeoutMs = DEFAULT_FLUSH_TIMEOUT_MS, clock = systemClock } = options;
  if (typeof (tracerProvider as Partial<TracerProvider> | null)?.getTracer !== 'function') {
    throw new OpenTelemetryOptionError('tracerProvider', tracerProvider, 'a TracerProvider, e.g. new BasicTracerProvider() from @opentelemetry/sdk-trace-base');
  }
  if (typeof (meterProvider as Partial<MeterProvider> | null)?.getMeter !== 'function') {
    throw new OpenTelemetryOptionError('meterProvider', meterProvider, 'a MeterProvider, e.g. new MeterProvider() from @opentelemetry/sdk-metrics');
  }
  check.positiveDuration('flushTimeoutMs', flushTimeoutMs);
  check.clock('clock', clock);

  const telemetry = new ShutdownTelemetry(tracerProvider.getTracer(INSTRUMENTATION_NAME), meterProvider.getMeter(INSTRUMENTATION_NAME));
  const c = quiesceChannels;
  const subscriptions: [EventChannel<never>, ChannelListener<never>][] = [];
  const on = <M>(channel: EventChannel<M>, handle: (message: M) => void): boolean => {
    const listener: ChannelListener<M> = (message) => {
      try {
        handle(message);
      } catch (error) {
        // Never into the publisher's stack: a subscriber that throws becomes an uncaught exception.
        diag.error(`${INSTRUMENTATION_NAME}: ${channel.name}: ${String(error)}`);
      }
    };
    const ok = channel.subscribe(listener);
    if (ok) subscriptions.push([channel as EventChannel<never>, listener as ChannelListener<never>]);
    return ok;
  };
  const active = [
    on(c.shutdownStart, (m) => telemetry.shutdownStart(m)),
    on(c.shutdownPhaseStart, (m) => telemetry.phaseStart(m)),
    on(c.shutdownPhaseEnd, (m) => telemetry.phaseEnd(m)),
    on(c.hookEnd, (m) => telemetry.hookEnd(m)),
    on(c.drainProgress, (m) => telemetry.drainProgress(m)),
    on(c.connectionClosed, (m) => telemetry.connectionClosed(m)),
    on(c.drainEnd, (m) => telemetry.drainEnd(m)),
    on(c.registryCall, (m) => telemetry.registryCall(m)),
    on(c.shutdownEnd, (m) => telemetry.shutdownEnd(m)),
    on(c.restartEnd, (m) => telemetry.restartEnd(m)),
    on(c.generationSpawned, (m) => telemetry.generation('spawned', m)),
    on(c.generationReady, (m) => telemetry.generation('ready', m)),
    on(c.generationFailed, (m) => telemetry.generation('failed', m)),
    on(c.generationRetired, (m) => telemetry.generation('retired', m)),
    on(c.generationExited, (m) => telemetry.generation('exited', m)),
  ].every(Boolean);
  let disposed = false;

  return {
    active,
    flush: (flushOptions = {}) => {
      check.object('options', flushOptions);
      if (flushOptions.signal !== undefined) check.signal('signal', flushOptions.signal);
      return flushProviders([tracerProvider as Flushable, meterProvider as Flushable], flushTimeoutMs, flushOptions.signal, clock);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const [channel, listener] of subscriptions.splice(0)) channel.unsubscribe(listener);
      telemetry.endAll();
    },
  };
}

/** `forceFlush()` on each provider that has it, raced against the deadline. */
async function flushProviders(providers: readonly Flushable[], timeoutMs: number, signal: AbortSignal | undefined, clock: Clock): Promise<FlushResult> {
  const started = clock.now();
  const deadline = new Deadline({ timeoutMs, signal, clock });
  const result = (outcome: FlushResult['outcome'], error?: unknown): FlushResult => ({ outcome, durationMs: clock.now() - started, error });
  try {
    if (deadline.expired) return result('timeout', deadline.signal.reason);
    const flushes = providers.map((provider) => {
      const target = typeof provider.forceFlush === 'function' ? provider : provider.getDelegate?.();
      // Called as a method: the SDK's providers need their `this`.
      return typeof target?.forceFlush === 'function' ? Promise.resolve().then(() => target.forceFlush!()) : Promise.resolve();
    });
    const cut = new Promise<FlushResult>((resolve) => {
      deadline.signal.addEventListener('abort', () => resolve(result('timeout', deadline.signal.reason)), { once: true });
    });
    const done = Promise.all(flushes).then(
      () => result('ok'),
      (error: unknown) => result('error', error),
    );
    return await Promise.race([done, cut]);
  } finally {
    deadline.dispose();
  }
}
