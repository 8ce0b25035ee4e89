import { OpenTelemetryOptionError } from './errors.ts';
import { type QuiesceInstrumentation, type QuiesceInstrumentationOptions, createQuiesceInstrumentation } from './quiesce-instrumentation.ts';

/**
 * What {@link instrumentLifecycle} needs of a lifecycle: a last step. `onFlush` hooks run after
 * the shutdown report is final (published on `quiesce:shutdown:end`, which ends the spans, and
 * logged), within what is left of the deadline; their signal aborts at the deadline, and the exit
 * code is already decided, so a telemetry backend that is down never changes how the process exits.
 */
export interface FlushableLifecycle {
  onFlush(name: string, run: (signal: AbortSignal) => unknown): void;
}

const instrumented = new WeakMap<object, QuiesceInstrumentation>();

/**
 * Records a lifecycle's shutdowns (and the restarts and registry calls of this process) as
 * OpenTelemetry spans and metrics, see {@link createQuiesceInstrumentation}, and flushes the
 * tracer and meter providers as the shutdown's last step: after the report, inside the deadline.
 * A flush that hangs is cut by the deadline (or `flushTimeoutMs`, whichever comes first) and the
 * process exits as the report decided. A second call for the same lifecycle returns the first
 * instrumentation. Throws {@link OpenTelemetryOptionError} on bad options or a lifecycle without
 * `onFlush`.
 *
 * @example
 * ```ts
 * import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
 * import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
 * import { instrumentLifecycle } from '@quiesce/opentelemetry';
 *
 * const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(traceExporter)] });
 * const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter })] });
 * instrumentLifecycle(lifecycle, { tracerProvider, meterProvider });
 * ```
 */
export function instrumentLifecycle(lifecycle: FlushableLifecycle, options: QuiesceInstrumentationOptions = {}): QuiesceInstrumentation {
  if (typeof (lifecycle as Partial<FlushableLifecycle> | null)?.onFlush !== 'function') {
    throw new OpenTelemetryOptionError('lifecycle', lifecycle, 'a lifecycle from createLifecycle() with onFlush(), so that telemetry is flushed after the report');
  }
  const existing = instrumented.get(lifecycle);
  if (existing) return existing;
  const instrumentation = createQuiesceInstrumentation(options);
  lifecycle.onFlush('opentelemetry', async (signal) => {
    const result = await instrumentation.flush({ signal });
    // A failed flush fails its step, so the lifecycle can say so; the exit code is already decided.
    if (result.outcome !== 'ok') {
      throw new Error(`OpenTelemetry flush ${result.outcome} after ${Math.round(result.durationMs)} ms`, { cause: result.error });
    }
  });
  instrumented.set(lifecycle, instrumentation);
  return instrumentation;
}
