/**
 * The example's OpenTelemetry export, from the standard environment: when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is not `true`), it loads the official
 * OTLP exporters (`OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`, the default, or `http/json`), names
 * the service `OTEL_SERVICE_NAME` (default `quiesce-example`), and instruments the lifecycle with
 * `@quiesce/opentelemetry`, so a shutdown's `quiesce.shutdown` span, its phases and the metrics are
 * exported as the shutdown's last step, inside its deadline. The exporters read the other standard
 * variables themselves (headers, compression, timeout, per-signal endpoints). Without the endpoint
 * nothing of OpenTelemetry is loaded: every OpenTelemetry import below is dynamic or type-only.
 * Runs on Node, Bun and Deno.
 */
import type { FlushableLifecycle, QuiesceInstrumentation } from '@quiesce/opentelemetry';
import { ExampleConfigError } from './config.ts';

/** What the environment asks for. */
export interface TelemetrySettings {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://127.0.0.1:4318` (the exporters append `/v1/traces`, `/v1/metrics`). */
  readonly endpoint: string;
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly serviceName: string;
}

/** A started export: the instrumentation and the providers it flushes. */
export interface Telemetry {
  readonly settings: TelemetrySettings;
  readonly instrumentation: QuiesceInstrumentation;
  /** Stops the providers (tests; the lifecycle's flush is what a shutdown uses). */
  shutdown(): Promise<void>;
}

/** Loads a module by name; `import()` unless a test watches what gets loaded. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

const PROTOCOLS = ['http/protobuf', 'http/json'] as const;

/**
 * Reads the OpenTelemetry settings: `undefined` when `OTEL_EXPORTER_OTLP_ENDPOINT` is unset or empty
 * or `OTEL_SDK_DISABLED=true`. Throws {@link ExampleConfigError} naming the variable for an endpoint
 * that is not an http(s) URL or a protocol other than `http/protobuf` and `http/json` (the example
 * does not ship the gRPC exporters).
 *
 * @example
 * ```ts
 * readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
 * // { endpoint: 'http://127.0.0.1:4318', protocol: 'http/protobuf', serviceName: 'quiesce-example' }
 * ```
 */
export function readTelemetrySettings(env: Record<string, string | undefined>): TelemetrySettings | undefined {
  const endpoint = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (!endpoint || env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  if (!/^https?:\/\/[^\s/]+/.test(endpoint)) throw new ExampleConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', endpoint, 'an http:// or https:// URL');
  // The per-signal variable wins, as in the OpenTelemetry SDKs; both signals must agree here.
  const variable = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = env[variable]?.trim() || 'http/protobuf';
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new ExampleConfigError(variable, protocol, 'http/protobuf or http/json');
  const serviceName = env['OTEL_SERVICE_NAME']?.trim() || 'quiesce-example';
  return { endpoint, protocol: protocol as TelemetrySettings['protocol'], serviceName };
}

/**
 * Loads the SDK and the OTLP exporters for `settings` and instruments `lifecycle` with them
 * (batched spans, metrics read once at the flush). Rejects when a package is missing, naming it.
 */
export async function loadTelemetry(lifecycle: FlushableLifecycle, settings: TelemetrySettings, load: ModuleLoader = (specifier) => import(specifier)): Promise<Telemetry> {
  const exporters = settings.protocol === 'http/json' ? 'http' : 'proto';
  const need = async <T>(specifier: string): Promise<T> => {
    try {
      return (await load(specifier)) as T;
    } catch (error) {
      throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT is set but ${specifier} cannot be loaded; install the example's optional dependencies`, { cause: error });
    }
  };
  const [resources, traceSdk, metricsSdk, traceExporter, metricExporter, quiesceOtel] = await Promise.all([
    need<typeof import('@opentelemetry/resources')>('@opentelemetry/resources'),
    need<typeof import('@opentelemetry/sdk-trace-base')>('@opentelemetry/sdk-trace-base'),
    need<typeof import('@opentelemetry/sdk-metrics')>('@opentelemetry/sdk-metrics'),
    need<typeof import('@opentelemetry/exporter-trace-otlp-http')>(`@opentelemetry/exporter-trace-otlp-${exporters}`),
    need<typeof import('@opentelemetry/exporter-metrics-otlp-http')>(`@opentelemetry/exporter-metrics-otlp-${exporters}`),
    need<typeof import('@quiesce/opentelemetry')>('@quiesce/opentelemetry'),
  ]);
  const runtime = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'nodejs';
  const resource = resources.defaultResource().merge(
    resources.resourceFromAttributes({ 'service.name': settings.serviceName, 'process.runtime.name': runtime, 'process.pid': process.pid }),
  );
  const tracerProvider = new traceSdk.BasicTracerProvider({
    resource,
    spanProcessors: [new traceSdk.BatchSpanProcessor(new traceExporter.OTLPTraceExporter())],
  });
  const meterProvider = new metricsSdk.MeterProvider({
    resource,
    // Read at the flush, the shutdown's last step; the periodic export is only a backstop.
    readers: [new metricsSdk.PeriodicExportingMetricReader({ exporter: new metricExporter.OTLPMetricExporter(), exportIntervalMillis: 60_000 })],
  });
  const instrumentation = quiesceOtel.instrumentLifecycle(lifecycle, { tracerProvider, meterProvider });
  return {
    settings,
    instrumentation,
    async shutdown() {
      instrumentation.dispose();
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

/**
 * The example's one call: exports a lifecycle's telemetry when the environment asks for it (see
 * {@link readTelemetrySettings}), else does nothing and loads nothing. A variable the example cannot
 * use ends the process with exit code 2 and a line naming it, as every other example setting does.
 *
 * @example
 * ```ts
 * await startTelemetry(lifecycle, process.env); // before lifecycle.install()
 * ```
 */
export async function startTelemetry(lifecycle: FlushableLifecycle, env: Record<string, string | undefined>): Promise<Telemetry | undefined> {
  let settings: TelemetrySettings | undefined;
  try {
    settings = readTelemetrySettings(env);
  } catch (error) {
    if (!(error instanceof ExampleConfigError)) throw error;
    console.error(`quiesce-example: ${error.message}`);
    process.exit(2);
  }
  return settings ? loadTelemetry(lifecycle, settings) : undefined;
}
