// @quiesce/test-support's OTLP receiver against the official exporters: what it records must be what the SDK made,
// the same whichever protocol carried it. Loopback only.
import { OTLPMetricExporter as HttpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as HttpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createQuiesceInstrumentation } from '../quiesce-instrumentation.ts';
import { type OtlpReceiver, type ReceivedMetric, type ReceivedSpan, startOtlpReceiver } from '@quiesce/test-support';
import { publishSyntheticShutdown } from './synthetic-shutdown.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function exportShutdownTo(receiver: OtlpReceiver, protocol: 'http/json' | 'http/protobuf', compression: 'none' | 'gzip' = 'none'): Promise<void> {
  const TraceExporter = protocol === 'http/json' ? HttpJsonTraceExporter : ProtobufTraceExporter;
  const MetricExporter = protocol === 'http/json' ? HttpJsonMetricExporter : ProtobufMetricExporter;
  const resource = resourceFromAttributes({ 'service.name': 'receiver-test' });
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new TraceExporter({ url: `${receiver.url}/v1/traces`, compression: compression as never }))],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new MetricExporter({ url: `${receiver.url}/v1/metrics`, compression: compression as never }),
        exportIntervalMillis: 3_600_000,
      }),
    ],
  });
  cleanups.push(() => Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]));
  const instrumentation = createQuiesceInstrumentation({ tracerProvider, meterProvider });
  cleanups.push(() => instrumentation.dispose());
  publishSyntheticShutdown({ outcome: 'failed' });
  expect((await instrumentation.flush()).outcome).toBe('ok');
}

/** What the SDK made, without what differs from run to run (ids, times). */
function comparable(spans: readonly ReceivedSpan[], metrics: readonly ReceivedMetric[]) {
  const byId = new Map(spans.map((span) => [span.spanId, span.name]));
  return {
    spans: spans
      .map((span) => ({
        name: span.name,
        parent: byId.get(span.parentSpanId) ?? null,
        attributes: span.attributes,
        events: span.events.map((event) => [event.name, event.attributes]),
        status: span.status,
        service: span.resource['service.name'],
        scope: span.scope.name,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    metrics: metrics
      .map((metric) => ({ name: metric.name, unit: metric.unit, type: metric.type, points: metric.points.map(({ timeUnixNano: _t, ...point }) => point) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

describe('startOtlpReceiver', () => {
  it.each([['http/json'], ['http/protobuf']] as const)('records what the official %s exporters send: the span tree and the metrics', async (protocol) => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    await exportShutdownTo(receiver, protocol);
    await receiver.waitFor(() => receiver.spans.length >= 6 && receiver.metrics.length > 0);
    expect(receiver.rejected).toEqual([]);
    expect(new Set(receiver.requests.map((r) => r.protocol))).toEqual(new Set([protocol]));

    const root = receiver.spans.find((span) => span.name === 'quiesce.shutdown')!;
    expect(root.parentSpanId).toBe('');
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.endTimeUnixNano).toBeGreaterThan(root.startTimeUnixNano);
    expect(root.status).toEqual({ code: 2, message: 'failed: 1 hooks did not end ok' });
    expect(root.attributes).toMatchObject({ 'quiesce.shutdown.reason': 'SIGTERM', 'quiesce.shutdown.exit_code': 1, 'quiesce.shutdown.deadline_hit': false });
    expect(root.resource['service.name']).toBe('receiver-test');
    const children = receiver.spans.filter((span) => span.parentSpanId === root.spanId).map((span) => span.name);
    expect(children.sort()).toEqual(['quiesce.cleanup', 'quiesce.deregister', 'quiesce.drain', 'quiesce.lame-duck', 'quiesce.stop-accepting']);
    const drain = receiver.spans.find((span) => span.name === 'quiesce.drain')!;
    expect(drain.attributes).toMatchObject({ 'quiesce.drain.idle_closed': 2, 'quiesce.drain.outcome': 'drained' });

    const duration = receiver.metrics.find((metric) => metric.name === 'quiesce.shutdown.duration')!;
    expect(duration).toMatchObject({ type: 'histogram', unit: 's' });
    expect(duration.points).toEqual([expect.objectContaining({ count: 1, sum: 0.354, attributes: { 'quiesce.shutdown.outcome': 'failed', 'quiesce.shutdown.kind': 'shutdown' } })]);
    expect(duration.points[0]!.explicitBounds).toEqual([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
    const closed = receiver.metrics.find((metric) => metric.name === 'quiesce.drain.connections.closed')!;
    expect(closed.type).toBe('sum');
    expect(closed.points.find((p) => p.attributes['quiesce.connection.closed_by'] === 'idle')!.value).toBe(2);
  });

  it('reads both protocols into the same records, and gzip bodies too', async () => {
    const json = await startOtlpReceiver();
    const protobuf = await startOtlpReceiver();
    cleanups.push(() => json.close(), () => protobuf.close());
    await exportShutdownTo(json, 'http/json');
    await exportShutdownTo(protobuf, 'http/protobuf', 'gzip');
    for (const receiver of [json, protobuf]) await receiver.waitFor(() => receiver.spans.length >= 6 && receiver.metrics.length > 0);
    expect(protobuf.requests.map((r) => r.encoding)).toEqual(['gzip', 'gzip']);
    expect(json.requests.map((r) => r.encoding)).toEqual(['identity', 'identity']);
    expect(comparable(protobuf.spans, protobuf.metrics)).toEqual(comparable(json.spans, json.metrics));
  });

  it('refuses what is not OTLP/HTTP: another path, another content type, a body it cannot read', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const post = (path: string, type: string, body: string) => fetch(`${receiver.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('/v1/logs', 'application/json', '{}')).status).toBe(404);
    expect((await post('/v1/traces', 'text/plain', 'hello')).status).toBe(415);
    expect((await post('/v1/traces', 'application/json', '{not json')).status).toBe(400);
    expect(receiver.rejected).toHaveLength(3);
    expect(receiver.spans).toEqual([]);
  });
});
