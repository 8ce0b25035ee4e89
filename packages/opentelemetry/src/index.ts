/**
 * @module
 * OpenTelemetry for Quiesce. One call turns each shutdown into a `quiesce.shutdown` span with one
 * child span per phase (lame duck, deregistration, stop accepting, drain, cleanup) and attributes
 * for what each did, records metrics (shutdown duration, connections closed by how, requests cut,
 * deadline hits, deregistration outcomes, restarts), and flushes your tracer and meter providers
 * as the shutdown's last step, inside its deadline: a flush that hangs is cut, and the exit code
 * never depends on the telemetry backend. It reads Quiesce's `diagnostics_channel` events
 * (`quiesceChannels` in `@quiesce/core`), so it works on Node, Bun and Deno, and costs nothing
 * where it is not installed. `@opentelemetry/api` is a peer dependency; bring your own SDK.
 *
 * @example
 * ```ts
 * import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
 * import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
 * import { instrumentLifecycle } from '@quiesce/opentelemetry';
 *
 * const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
 * instrumentLifecycle(lifecycle, { tracerProvider });
 * lifecycle.install();
 * ```
 */
export { OpenTelemetryOptionError } from './errors.ts';
export { type FlushableLifecycle, instrumentLifecycle } from './instrument-lifecycle.ts';
export {
  type FlushOptions,
  type FlushResult,
  type QuiesceInstrumentation,
  type QuiesceInstrumentationOptions,
  createQuiesceInstrumentation,
} from './quiesce-instrumentation.ts';
