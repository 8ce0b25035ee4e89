import { channel } from 'node:diagnostics_channel';
import { type MeterProvider as ApiMeterProvider, SpanStatusCode, type TracerProvider } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, type MetricData, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { quiesceChannels } from '@quiesce/core';
import { ManualClock } from '@quiesce/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenTelemetryOptionError } from './errors.ts';
import { type FlushableLifecycle, instrumentLifecycle } from './instrument-lifecycle.ts';
import { type QuiesceInstrumentation, createQuiesceInstrumentation } from './quiesce-instrumentation.ts';
import { publishSyntheticShutdown } from './test-support/synthetic-shutdown.ts';

/** The real SDK with in-memory exporters; nothing is exported before a flush. */
function sdk() {
  const spans = new InMemorySpanExporter();
  // A long delay: spans leave only when flushed, as with a real exporter at shutdown.
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spans, { scheduledDelayMillis: 3_600_000 })] });
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 })] });
  return { spans, tracerProvider, metrics, meterProvider };
}

/** The part of a lifecycle instrumentLifecycle uses: its flush steps, run the way the lifecycle runs them. */
function lifecycleWithFlush() {
  const steps: { name: string; run: (signal: AbortSignal) => unknown }[] = [];
  const lifecycle: FlushableLifecycle = { onFlush: (name, run) => steps.push({ name, run }) };
  const flush = (signal: AbortSignal = new AbortController().signal) => Promise.allSettled(steps.map((step) => step.run(signal)));
  return { lifecycle, steps, flush };
}

const running: QuiesceInstrumentation[] = [];
afterEach(() => {
  for (const instrumentation of running.splice(0)) instrumentation.dispose();
});
function instrument(options: Parameters<typeof createQuiesceInstrumentation>[0]): QuiesceInstrumentation {
  const instrumentation = createQuiesceInstrumentation(options);
  running.push(instrumentation);
  return instrumentation;
}

const byName = (spans: readonly ReadableSpan[], name: string): ReadableSpan => {
  const found = spans.find((span) => span.name === name);
  if (!found) throw new Error(`no span ${name} in ${spans.map((s) => s.name).join(', ')}`);
  return found;
};

function metric(exported: ReturnType<InMemoryMetricExporter['getMetrics']>, name: string): MetricData {
  const found = exported.at(-1)?.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found;
}

/** Data points as [attributes, value] (a histogram's value is its count and sum). */
const points = (data: MetricData): [Record<string, unknown>, unknown][] =>
  data.dataPoints.map((point) => [
    point.attributes,
    data.dataPointType === DataPointType.HISTOGRAM ? { count: (point.value as { count: number }).count, sum: (point.value as { sum: number }).sum } : point.value,
  ]);

describe('createQuiesceInstrumentation: spans', () => {
  it('a shutdown becomes one quiesce.shutdown span whose children are the phases that ran', async () => {
    const { spans, tracerProvider, meterProvider } = sdk();
    const instrumentation = instrument({ tracerProvider, meterProvider });
    expect(instrumentation.active).toBe(true);
    publishSyntheticShutdown();
    expect((await instrumentation.flush()).outcome).toBe('ok');

    const exported = spans.getFinishedSpans();
    const root = byName(exported, 'quiesce.shutdown');
    expect(root.parentSpanContext).toBeUndefined();
    const children = exported.filter((span) => span.parentSpanContext?.spanId === root.spanContext().spanId);
    expect(children.map((span) => span.name).sort()).toEqual(['quiesce.cleanup', 'quiesce.deregister', 'quiesce.drain', 'quiesce.lame-duck', 'quiesce.stop-accepting']);
    for (const child of children) expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(root.attributes).toMatchObject({
      'quiesce.shutdown.id': 1,
      'quiesce.shutdown.reason': 'SIGTERM',
      'quiesce.shutdown.kind': 'shutdown',
      'quiesce.adapter': 'node',
      'quiesce.shutdown.deadline_ms': 10_000,
      'quiesce.shutdown.outcome': 'clean',
      'quiesce.shutdown.exit_code': 0,
      'quiesce.shutdown.deadline_hit': false,
      'quiesce.drain.requests_cut': 0,
      'quiesce.hooks.failed': 0,
      'quiesce.connections.closed.idle': 2,
      'quiesce.connections.closed.preconnect': 1,
      'quiesce.connections.closed.response-last': 1,
      'quiesce.connections.closed.peer': 1,
      'quiesce.connections.closed.forced': 0,
    });
    expect(root.status.code).toBe(SpanStatusCode.UNSET);
    expect(byName(exported, 'quiesce.stop-accepting').attributes).toEqual({ 'quiesce.phase': 'stop-accepting', 'quiesce.phase.duration_ms': 1 });
  });

  it('each phase span says what the phase did: drain counts, registry calls and hook outcomes as events', async () => {
    const { spans, tracerProvider, meterProvider } = sdk();
    const instrumentation = instrument({ tracerProvider, meterProvider });
    publishSyntheticShutdown();
    await instrumentation.flush();
    const exported = spans.getFinishedSpans();

    const drain = byName(exported, 'quiesce.drain');
    expect(drain.attributes).toMatchObject({
      'quiesce.drain.outcome': 'drained',
      'quiesce.drain.in_flight_at_start': 1,
      'quiesce.drain.requests_completed': 1,
      'quiesce.drain.requests_cut': 0,
      'quiesce.drain.idle_closed': 2,
      'quiesce.drain.preconnects_closed': 1,
      'quiesce.drain.force_closed': 0,
      'quiesce.drain.upgraded_at_start': 2,
      'quiesce.drain.upgraded_closed': 2,
      'quiesce.drain.upgraded_force_closed': 0,
      'quiesce.drain.streams_at_start': 1,
      'quiesce.drain.streams_cut': 0,
      'quiesce.hooks.total': 1,
      'quiesce.hooks.failed': 0,
    });
    expect(drain.events.map((event) => event.name)).toEqual(['quiesce.drain.progress', 'quiesce.hook']);
    expect(drain.events[1]!.attributes).toEqual({ 'quiesce.hook.name': 'queue', 'quiesce.hook.phase': 'shutdown', 'quiesce.hook.status': 'ok', 'quiesce.hook.duration_ms': 20 });

    const deregister = byName(exported, 'quiesce.deregister');
    expect(deregister.events.map((event) => [event.name, event.attributes?.['quiesce.registry'] ?? event.attributes?.['quiesce.hook.name']])).toEqual([
      ['quiesce.registry.call', 'etcd'],
      ['quiesce.hook', 'etcd'],
    ]);
    expect(deregister.events[0]!.attributes).toMatchObject({ 'quiesce.registry.operation': 'deregister', 'quiesce.outcome': 'ok', 'quiesce.registry.entry': '/services/example/127.0.0.1:3000' });
    expect(byName(exported, 'quiesce.cleanup').events.map((event) => event.name)).toEqual(['quiesce.registry.call', 'quiesce.hook', 'quiesce.hook']);
  });

  it('a failed cleanup hook marks its phase span and the root as errors, naming the hook and its error', async () => {
    const { spans, tracerProvider, meterProvider } = sdk();
    const instrumentation = instrument({ tracerProvider, meterProvider });
    publishSyntheticShutdown({ outcome: 'failed' });
    await instrumentation.flush();
    const exported = spans.getFinishedSpans();
    const cleanup = byName(exported, 'quiesce.cleanup');
    expect(cleanup.status).toEqual({ code: SpanStatusCode.ERROR, message: 'db error' });
    expect(cleanup.events.find((event) => event.attributes?.['quiesce.hook.name'] === 'db')!.attributes).toMatchObject({
      'quiesce.hook.status': 'error',
      'quiesce.hook.error': 'Error: pool already closed',
    });
    const root = byName(exported, 'quiesce.shutdown');
    expect(root.status).toEqual({ code: SpanStatusCode.ERROR, message: 'failed: 1 hooks did not end ok' });
    expect(root.attributes).toMatchObject({ 'quiesce.shutdown.outcome': 'failed', 'quiesce.shutdown.exit_code': 1, 'quiesce.hooks.failed': 1 });
  });

  it('a shutdown the deadline cut is an error span with the requests and connections it cut', async () => {
    const { spans, tracerProvider, meterProvider } = sdk();
    const instrumentation = instrument({ tracerProvider, meterProvider });
    publishSyntheticShutdown({ outcome: 'forced' });
    await instrumentation.flush();
    const exported = spans.getFinishedSpans();
    expect(byName(exported, 'quiesce.shutdown').status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'forced: the deadline of 10000 ms cut 2 requests, 3 connections',
    });
    expect(byName(exported, 'quiesce.shutdown').attributes).toMatchObject({ 'quiesce.shutdown.deadline_hit': true, 'quiesce.connections.closed.forced': 3 });
    expect(byName(exported, 'quiesce.drain').status.code).toBe(SpanStatusCode.ERROR);
    expect(byName(exported, 'quiesce.drain').attributes).toMatchObject({
      'quiesce.drain.outcome': 'forced',
      'quiesce.drain.requests_cut': 2,
      'quiesce.drain.force_closed': 3,
      'quiesce.drain.upgraded_force_closed': 1,
      'quiesce.drain.streams_cut': 1,
    });
  });

  it('a restart becomes a quiesce.restart span covering the time it reports; a rollback is an error', async () => {
    const { spans, tracerProvider, meterProvider } = sdk();
    const instrumentation = instrument({ tracerProvider, meterProvider });
    quiesceChannels.restartEnd.publish({ mode: 'hot-restart', outcome: 'restarted', durationMs: 1_500, pid: 4242, reason: undefined });
    quiesceChannels.restartEnd.publish({ mode: 'supervisor', outcome: 'rolled-back', durationMs: 300, pid: 4243, reason: 'exited with code 1 before it was ready' });
    await instrumentation.flush();
    const [restarted, rolledBack] = spans.getFinishedSpans().filter((span) => span.name === 'quiesce.restart');
    expect(restarted!.attributes).toEqual({ 'quiesce.restart.mode': 'hot-restart', 'quiesce.restart.outcome': 'restarted', 'quiesce.restart.pid': 4242 });
    expect(restarted!.duration[0] * 1000 + restarted!.duration[1] / 1e6).toBeCloseTo(1_500, 0);
    expect(rolledBack!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'exited with code 1 before it was ready' });
  });

  it('events outside a shutdown (hooks or a drain used on their own) make no span but still count', async () => {
    const { spans, metrics, tracerProvider, meterProvider } = sdk();
    const instrumentation = instrument({ tracerProvider, meterProvider });
    quiesceChannels.hookEnd.publish({ name: 'consul', phase: 'deregister', status: 'timeout', durationMs: 2_000, error: new Error('slow') });
    quiesceChannels.drainEnd.publish({
      outcome: 'forced',
      durationMs: 1,
      inFlightAtStart: 1,
      requestsCompleted: 0,
      requestsCut: 1,
      idleClosed: 0,
      preconnectsClosed: 0,
      forceClosed: 1,
      upgradedAtStart: 0,
      upgradedClosed: 0,
      upgradedForceClosed: 0,
      streamsAtStart: 0,
      streamsCut: 0,
    });
    await instrumentation.flush();
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(points(metric(metrics.getMetrics(), 'quiesce.deregistrations'))).toEqual([[{ 'quiesce.registry': 'consul', 'quiesce.outcome': 'timeout' }, 1]]);
    expect(points(metric(metrics.getMetrics(), 'quiesce.drain.requests.cut'))).toEqual([[{}, 1]]);
  });
});

describe('createQuiesceInstrumentation: metrics', () => {
  it('records shutdown and phase durations, deadline hits, connections closed by how, requests cut and deregistrations', async () => {
    const { metrics, tracerProvider, meterProvider } = sdk();
    const instrumentation = instrument({ tracerProvider, meterProvider });
    publishSyntheticShutdown({ shutdownId: 1 });
    publishSyntheticShutdown({ shutdownId: 2, outcome: 'forced' });
    await instrumentation.flush();
    const exported = metrics.getMetrics();

    const duration = metric(exported, 'quiesce.shutdown.duration');
    expect(duration.descriptor.unit).toBe('s');
    expect(points(duration)).toEqual([
      [{ 'quiesce.shutdown.outcome': 'clean', 'quiesce.shutdown.kind': 'shutdown' }, { count: 1, sum: 0.354 }],
      [{ 'quiesce.shutdown.outcome': 'forced', 'quiesce.shutdown.kind': 'shutdown' }, { count: 1, sum: 9.003 }],
    ]);
    expect(points(metric(exported, 'quiesce.shutdown.phase.duration')).map(([attributes, value]) => [attributes['quiesce.phase'], (value as { count: number }).count])).toEqual([
      ['deregister', 2],
      ['lame-duck', 2],
      ['stop-accepting', 2],
      ['drain', 2],
      ['cleanup', 2],
    ]);
    expect(points(metric(exported, 'quiesce.shutdown.deadline_hits'))).toEqual([[{ 'quiesce.shutdown.kind': 'shutdown' }, 1]]);
    expect(points(metric(exported, 'quiesce.drain.connections.closed'))).toEqual([
      [{ 'quiesce.connection.closed_by': 'response-last', 'quiesce.connection.upgraded': false }, 2],
      [{ 'quiesce.connection.closed_by': 'preconnect', 'quiesce.connection.upgraded': false }, 2],
      [{ 'quiesce.connection.closed_by': 'idle', 'quiesce.connection.upgraded': false }, 4],
      [{ 'quiesce.connection.closed_by': 'peer', 'quiesce.connection.upgraded': false }, 2],
      [{ 'quiesce.connection.closed_by': 'forced', 'quiesce.connection.upgraded': false }, 3],
    ]);
    expect(points(metric(exported, 'quiesce.drain.requests.cut'))).toEqual([[{}, 2]]);
    expect(points(metric(exported, 'quiesce.deregistrations'))).toEqual([[{ 'quiesce.registry': 'etcd', 'quiesce.outcome': 'ok' }, 2]]);
    expect(points(metric(exported, 'quiesce.registry.calls'))).toEqual([
      [{ 'quiesce.registry': 'etcd', 'quiesce.registry.operation': 'deregister', 'quiesce.outcome': 'ok' }, 2],
      [{ 'quiesce.registry': 'etcd', 'quiesce.registry.operation': 'close', 'quiesce.outcome': 'ok' }, 2],
    ]);
  });

  it('counts restarts by outcome and generation events, a generation exiting while serving as crashed', async () => {
    const { metrics, tracerProvider, meterProvider } = sdk();
    const instrumentation = instrument({ tracerProvider, meterProvider });
    const generation = { mode: 'supervisor', generation: 2, pid: 10 } as const;
    quiesceChannels.generationSpawned.publish(generation);
    quiesceChannels.generationReady.publish({ ...generation, readyMs: 120 });
    quiesceChannels.generationRetired.publish({ ...generation, generation: 1, signal: 'SIGTERM' });
    quiesceChannels.generationExited.publish({ ...generation, generation: 1, exitCode: 0, while: 'stopping' });
    quiesceChannels.generationExited.publish({ ...generation, exitCode: 1, while: 'serving' });
    quiesceChannels.generationFailed.publish({ ...generation, generation: 3, reason: 'not ready within 30000 ms' });
    quiesceChannels.restartEnd.publish({ mode: 'supervisor', outcome: 'rolled', durationMs: 400, pid: 10, reason: undefined });
    await instrumentation.flush();
    const exported = metrics.getMetrics();
    expect(points(metric(exported, 'quiesce.generations')).map(([attributes, value]) => [attributes['quiesce.generation.event'], value])).toEqual([
      ['spawned', 1],
      ['ready', 1],
      ['retired', 1],
      ['exited', 1],
      ['crashed', 1],
      ['failed', 1],
    ]);
    expect(points(metric(exported, 'quiesce.restarts'))).toEqual([[{ 'quiesce.restart.mode': 'supervisor', 'quiesce.restart.outcome': 'rolled' }, 1]]);
  });
});

describe('createQuiesceInstrumentation: flush, subscriptions, options', () => {
  it('subscribes while it runs and leaves every channel unsubscribed after dispose (publishers then build nothing)', () => {
    const { tracerProvider, meterProvider } = sdk();
    const before = Object.values(quiesceChannels).filter((c) => c.hasSubscribers).length;
    const instrumentation = createQuiesceInstrumentation({ tracerProvider, meterProvider });
    expect(Object.values(quiesceChannels).every((c) => c.hasSubscribers)).toBe(true);
    instrumentation.dispose();
    instrumentation.dispose();
    expect(Object.values(quiesceChannels).filter((c) => c.hasSubscribers).length).toBe(before);
    expect(before).toBe(0);
  });

  it('ends the spans of a shutdown still open when disposed, marked incomplete', async () => {
    const { spans, tracerProvider, meterProvider } = sdk();
    const instrumentation = createQuiesceInstrumentation({ tracerProvider, meterProvider });
    quiesceChannels.shutdownStart.publish({ shutdownId: 9, reason: 'SIGINT', kind: 'shutdown', adapter: 'bun', deadlineMs: 1_000, lameDuckMs: 0, cleanupReserveMs: 0 });
    quiesceChannels.shutdownPhaseStart.publish({ shutdownId: 9, phase: 'drain', startMs: 0 });
    instrumentation.dispose();
    await instrumentation.flush();
    expect(spans.getFinishedSpans().map((span) => span.name).sort()).toEqual(['quiesce.drain', 'quiesce.shutdown']);
    expect(byName(spans.getFinishedSpans(), 'quiesce.shutdown').attributes['quiesce.shutdown.incomplete']).toBe(true);
  });

  it('a message it cannot read never reaches the publisher (no throw, no uncaught exception)', () => {
    const { tracerProvider, meterProvider } = sdk();
    instrument({ tracerProvider, meterProvider });
    expect(() => channel('quiesce:shutdown:end').publish({ shutdownId: 1 })).not.toThrow();
    expect(() => channel('quiesce:shutdown:start').publish(null)).not.toThrow();
  });

  it('a flush that hangs is cut at flushTimeoutMs and resolves timeout; a rejected flush resolves error', async () => {
    const clock = new ManualClock();
    const hanging = { getTracer: sdk().tracerProvider.getTracer.bind(sdk().tracerProvider), forceFlush: () => new Promise<void>(() => {}) };
    const instrumentation = instrument({ tracerProvider: hanging as TracerProvider, meterProvider: sdk().meterProvider, flushTimeoutMs: 2_000, clock });
    const pending = instrumentation.flush();
    await clock.advance(1_999);
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    await clock.advance(1);
    const result = await pending;
    expect(result.outcome).toBe('timeout');
    expect(result.durationMs).toBe(2_000);

    const failing = { getMeter: sdk().meterProvider.getMeter.bind(sdk().meterProvider), forceFlush: () => Promise.reject(new Error('exporter down')) };
    const broken = instrument({ tracerProvider: sdk().tracerProvider, meterProvider: failing as ApiMeterProvider, clock });
    const failed = await broken.flush();
    expect(failed.outcome).toBe('error');
    expect((failed.error as Error).message).toBe('exporter down');
  });

  it('flushes the SDK provider behind the API global proxy (getDelegate)', async () => {
    const { spans, tracerProvider, meterProvider } = sdk();
    let flushed = 0;
    const proxy = { getTracer: tracerProvider.getTracer.bind(tracerProvider), getDelegate: () => ({ forceFlush: async () => void flushed++ }) };
    const instrumentation = instrument({ tracerProvider: proxy as TracerProvider, meterProvider });
    expect((await instrumentation.flush()).outcome).toBe('ok');
    expect(flushed).toBe(1);
    expect(spans.getFinishedSpans()).toEqual([]);
  });

  it('refuses bad options with OpenTelemetryOptionError naming the option', () => {
    const { tracerProvider, meterProvider } = sdk();
    const error = (fn: () => unknown): OpenTelemetryOptionError => {
      try {
        fn();
      } catch (e) {
        return e as OpenTelemetryOptionError;
      }
      throw new Error('did not throw');
    };
    expect(error(() => createQuiesceInstrumentation({ tracerProvider: {} as TracerProvider, meterProvider })).option).toBe('tracerProvider');
    expect(error(() => createQuiesceInstrumentation({ tracerProvider, meterProvider: null as unknown as ApiMeterProvider })).option).toBe('meterProvider');
    const timeout = error(() => createQuiesceInstrumentation({ tracerProvider, meterProvider, flushTimeoutMs: 0 }));
    expect(timeout).toBeInstanceOf(OpenTelemetryOptionError);
    expect([timeout.option, timeout.code]).toEqual(['flushTimeoutMs', 'QUIESCE_OTEL_INVALID_OPTION']);
    expect(error(() => instrumentLifecycle({} as FlushableLifecycle, { tracerProvider, meterProvider })).message).toMatch(
      /^Invalid lifecycle: .*Expected a lifecycle from createLifecycle\(\) with onFlush\(\)/,
    );
  });
});

describe('instrumentLifecycle', () => {
  it('exports the shutdown in the lifecycle flush step, the last step after the report, and not before', async () => {
    const { spans, metrics, tracerProvider, meterProvider } = sdk();
    const { lifecycle, steps, flush } = lifecycleWithFlush();
    running.push(instrumentLifecycle(lifecycle, { tracerProvider, meterProvider }));
    expect(steps.map((step) => step.name)).toEqual(['opentelemetry']);
    publishSyntheticShutdown();
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(metrics.getMetrics()).toEqual([]);
    const [result] = await flush();
    expect(result!.status).toBe('fulfilled');
    expect(spans.getFinishedSpans().map((span) => span.name)).toContain('quiesce.shutdown');
    expect(metric(metrics.getMetrics(), 'quiesce.shutdown.duration').dataPoints).toHaveLength(1);
  });

  it('a flush still hanging at the deadline is cut: the step fails with the reason and the shutdown goes on', async () => {
    const { meterProvider } = sdk();
    const real = new BasicTracerProvider();
    const hanging = { getTracer: real.getTracer.bind(real), forceFlush: () => new Promise<void>(() => {}) };
    const { lifecycle, flush } = lifecycleWithFlush();
    running.push(instrumentLifecycle(lifecycle, { tracerProvider: hanging as TracerProvider, meterProvider }));
    const deadline = new AbortController();
    const pending = flush(deadline.signal);
    deadline.abort(new Error('deadline'));
    const [result] = await pending;
    expect(result!.status).toBe('rejected');
    const reason = (result as PromiseRejectedResult).reason as Error;
    expect(reason.message).toMatch(/^OpenTelemetry flush timeout after \d+ ms$/);
    expect((reason.cause as Error).message).toBe('deadline');
  });

  it('instruments a lifecycle once: a second call returns the same instrumentation and adds no flush step', () => {
    const { tracerProvider, meterProvider } = sdk();
    const { lifecycle, steps } = lifecycleWithFlush();
    const first = instrumentLifecycle(lifecycle, { tracerProvider, meterProvider });
    running.push(first);
    expect(instrumentLifecycle(lifecycle, { tracerProvider, meterProvider })).toBe(first);
    expect(steps).toHaveLength(1);
  });
});
