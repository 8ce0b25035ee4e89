import { type Attributes, type Counter, type Histogram, type Meter, type Span, SpanStatusCode, type Tracer, context, trace } from '@opentelemetry/api';
import {
  type ConnectionCloseHow,
  type ConnectionClosedMessage,
  type DrainEndMessage,
  type DrainProgressMessage,
  type GenerationMessage,
  type HookEndMessage,
  type RegistryCallMessage,
  type RestartEndMessage,
  type ShutdownEndMessage,
  type ShutdownPhaseEndMessage,
  type ShutdownPhaseStartMessage,
  type ShutdownStartMessage,
  describeError,
} from '@quiesce/core';
import { METRIC, RESTART_SPAN, SHUTDOWN_SPAN, phaseSpan } from './telemetry-names.ts';

/** A phase span and what its hooks did, set on it when it ends. */
interface OpenPhase {
  readonly span: Span;
  hooks: number;
  failed: string[];
}

/** One shutdown in progress: its root span, its open phases, its connections by how they closed. */
interface OpenShutdown {
  readonly id: number;
  readonly root: Span;
  readonly phases: Map<string, OpenPhase>;
  readonly closed: Record<ConnectionCloseHow, number>;
}

/** The lifecycle phase a hook of a lifecycle's hook phase runs in (shutdown hooks run beside the drain). */
const PHASE_OF_HOOK: Readonly<Record<string, string>> = { deregister: 'deregister', shutdown: 'drain', cleanup: 'cleanup' };

const SHUTDOWN_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const PHASE_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Turns the event catalog's messages into spans and metrics. Each method handles one channel's
 * message; none throws (the caller also guards), because a subscriber that throws would surface
 * as an uncaught exception in the middle of a shutdown.
 */
export class ShutdownTelemetry {
  readonly #tracer: Tracer;
  readonly #open = new Map<number, OpenShutdown>();
  /** The most recent open shutdown: where messages without a shutdown id (hooks, drain, registry) belong. */
  #current: OpenShutdown | undefined;
  readonly #shutdownDuration: Histogram;
  readonly #phaseDuration: Histogram;
  readonly #deadlineHits: Counter;
  readonly #connectionsClosed: Counter;
  readonly #requestsCut: Counter;
  readonly #deregistrations: Counter;
  readonly #registryCalls: Counter;
  readonly #restarts: Counter;
  readonly #generations: Counter;

  constructor(tracer: Tracer, meter: Meter) {
    this.#tracer = tracer;
    this.#shutdownDuration = meter.createHistogram(METRIC.shutdownDuration, {
      unit: 's',
      description: 'Shutdown duration, from the signal to the final report.',
      advice: { explicitBucketBoundaries: SHUTDOWN_BUCKETS_S },
    });
    this.#phaseDuration = meter.createHistogram(METRIC.phaseDuration, {
      unit: 's',
      description: 'Duration of each shutdown phase.',
      advice: { explicitBucketBoundaries: PHASE_BUCKETS_S },
    });
    this.#deadlineHits = meter.createCounter(METRIC.deadlineHits, { unit: '{shutdown}', description: 'Shutdowns cut short by the deadline.' });
    this.#connectionsClosed = meter.createCounter(METRIC.connectionsClosed, {
      unit: '{connection}',
      description: 'Connections closed during shutdown, by how they closed.',
    });
    this.#requestsCut = meter.createCounter(METRIC.requestsCut, { unit: '{request}', description: 'Requests in flight when the deadline cut their connection.' });
    this.#deregistrations = meter.createCounter(METRIC.deregistrations, { unit: '{deregistration}', description: 'Service-registry deregistrations, by outcome.' });
    this.#registryCalls = meter.createCounter(METRIC.registryCalls, { unit: '{call}', description: 'Service-registry calls, by operation and outcome.' });
    this.#restarts = meter.createCounter(METRIC.restarts, { unit: '{restart}', description: 'Hot restarts and quiesce run rolls, by outcome.' });
    this.#generations = meter.createCounter(METRIC.generations, { unit: '{event}', description: 'Generation events of hot restarts and quiesce run.' });
  }

  shutdownStart(message: ShutdownStartMessage): void {
    const root = this.#tracer.startSpan(SHUTDOWN_SPAN, {
      attributes: {
        'quiesce.shutdown.id': message.shutdownId,
        'quiesce.shutdown.reason': message.reason,
        'quiesce.shutdown.kind': message.kind,
        'quiesce.adapter': message.adapter,
        'quiesce.shutdown.deadline_ms': message.deadlineMs,
        'quiesce.shutdown.lame_duck_ms': message.lameDuckMs,
        'quiesce.shutdown.cleanup_reserve_ms': message.cleanupReserveMs,
      },
    });
    const open: OpenShutdown = {
      id: message.shutdownId,
      root,
      phases: new Map(),
      closed: { idle: 0, preconnect: 0, 'response-last': 0, peer: 0, forced: 0 },
    };
    this.#open.set(open.id, open);
    this.#current = open;
  }

  phaseStart(message: ShutdownPhaseStartMessage): void {
    const open = this.#open.get(message.shutdownId);
    if (!open) return;
    const span = this.#tracer.startSpan(
      phaseSpan(message.phase),
      { attributes: { 'quiesce.phase': message.phase } },
      trace.setSpan(context.active(), open.root),
    );
    open.phases.set(message.phase, { span, hooks: 0, failed: [] });
  }

  phaseEnd(message: ShutdownPhaseEndMessage): void {
    this.#phaseDuration.record(message.durationMs / 1000, { 'quiesce.phase': message.phase });
    const open = this.#open.get(message.shutdownId);
    const phase = open?.phases.get(message.phase);
    if (!open || !phase) return;
    open.phases.delete(message.phase);
    phase.span.setAttribute('quiesce.phase.duration_ms', message.durationMs);
    endPhase(phase);
  }

  hookEnd(message: HookEndMessage): void {
    if (message.phase === 'deregister') {
      this.#deregistrations.add(1, { 'quiesce.registry': message.name, 'quiesce.outcome': message.status });
    }
    const open = this.#current;
    const phase = open?.phases.get(PHASE_OF_HOOK[message.phase] ?? '');
    const target = phase?.span ?? open?.root;
    if (!target) return;
    const attributes: Attributes = {
      'quiesce.hook.name': message.name,
      'quiesce.hook.phase': message.phase,
      'quiesce.hook.status': message.status,
      'quiesce.hook.duration_ms': message.durationMs,
    };
    if (message.status !== 'ok') attributes['quiesce.hook.error'] = describeError(message.error);
    target.addEvent('quiesce.hook', attributes);
    if (phase) {
      phase.hooks++;
      if (message.status !== 'ok') phase.failed.push(`${message.name} ${message.status}`);
    }
  }

  drainProgress(message: DrainProgressMessage): void {
    this.#current?.phases.get('drain')?.span.addEvent('quiesce.drain.progress', {
      'quiesce.drain.state': message.state,
      'quiesce.drain.connections': message.connections,
      'quiesce.drain.idle': message.idle,
      'quiesce.drain.upgraded': message.upgraded,
      'quiesce.drain.in_flight': message.inFlight,
    });
  }

  connectionClosed(message: ConnectionClosedMessage): void {
    this.#connectionsClosed.add(1, { 'quiesce.connection.closed_by': message.how, 'quiesce.connection.upgraded': message.upgraded });
    const open = this.#current;
    if (open && message.how in open.closed) open.closed[message.how]++;
  }

  drainEnd(message: DrainEndMessage): void {
    this.#requestsCut.add(message.requestsCut);
    const span = this.#current?.phases.get('drain')?.span;
    if (!span) return;
    span.setAttributes({
      'quiesce.drain.outcome': message.outcome,
      'quiesce.drain.duration_ms': message.durationMs,
      'quiesce.drain.in_flight_at_start': message.inFlightAtStart,
      'quiesce.drain.requests_completed': message.requestsCompleted,
      'quiesce.drain.requests_cut': message.requestsCut,
      'quiesce.drain.idle_closed': message.idleClosed,
      'quiesce.drain.preconnects_closed': message.preconnectsClosed,
      'quiesce.drain.force_closed': message.forceClosed,
      'quiesce.drain.upgraded_at_start': message.upgradedAtStart,
      'quiesce.drain.upgraded_closed': message.upgradedClosed,
      'quiesce.drain.upgraded_force_closed': message.upgradedForceClosed,
      'quiesce.drain.streams_at_start': message.streamsAtStart,
      'quiesce.drain.streams_cut': message.streamsCut,
    });
    if (message.outcome === 'forced') {
      span.setStatus({ code: SpanStatusCode.ERROR, message: `the deadline cut ${message.requestsCut} requests and ${message.forceClosed} connections` });
    }
  }

  registryCall(message: RegistryCallMessage): void {
    this.#registryCalls.add(1, {
      'quiesce.registry': message.registry,
      'quiesce.registry.operation': message.operation,
      'quiesce.outcome': message.outcome,
    });
    const open = this.#current;
    const phase = message.operation === 'deregister' ? 'deregister' : message.operation === 'close' ? 'cleanup' : '';
    const target = open?.phases.get(phase)?.span ?? open?.root;
    if (!target) return;
    const attributes: Attributes = {
      'quiesce.registry': message.registry,
      'quiesce.registry.operation': message.operation,
      'quiesce.outcome': message.outcome,
      'quiesce.registry.duration_ms': message.durationMs,
    };
    if (message.entry !== undefined) attributes['quiesce.registry.entry'] = message.entry;
    if (message.error !== undefined) attributes['quiesce.registry.error'] = describeError(message.error);
    target.addEvent('quiesce.registry.call', attributes);
  }

  shutdownEnd(message: ShutdownEndMessage): void {
    const kind = message.reason === 'restart' ? 'restart' : 'shutdown';
    this.#shutdownDuration.record(message.durationMs / 1000, { 'quiesce.shutdown.outcome': message.outcome, 'quiesce.shutdown.kind': kind });
    if (message.outcome === 'forced') this.#deadlineHits.add(1, { 'quiesce.shutdown.kind': kind });
    const open = this.#open.get(message.shutdownId);
    if (!open) return;
    this.#close(open);
    const failed = [message.deregistration, message.hooks, message.cleanup].reduce((n, run) => n + run.totals.total - run.totals.ok, 0);
    const attributes: Attributes = {
      'quiesce.shutdown.outcome': message.outcome,
      'quiesce.shutdown.exit_code': message.exitCode,
      'quiesce.shutdown.duration_ms': message.durationMs,
      'quiesce.shutdown.deadline_hit': message.outcome === 'forced',
      'quiesce.drain.requests_completed': message.drain.requestsCompleted,
      'quiesce.drain.requests_cut': message.drain.requestsCut,
      'quiesce.hooks.failed': failed,
    };
    for (const [how, count] of Object.entries(open.closed)) attributes[`quiesce.connections.closed.${how}`] = count;
    open.root.setAttributes(attributes);
    if (message.outcome !== 'clean') {
      const why =
        message.outcome === 'forced'
          ? `forced: the deadline of ${message.deadlineMs} ms cut ${message.drain.requestsCut} requests, ${message.drain.forceClosed} connections`
          : `failed: ${failed} hooks did not end ok`;
      open.root.setStatus({ code: SpanStatusCode.ERROR, message: why });
    }
    open.root.end();
  }

  restartEnd(message: RestartEndMessage): void {
    this.#restarts.add(1, { 'quiesce.restart.mode': message.mode, 'quiesce.restart.outcome': message.outcome });
    // Published when the restart ends; the span covers the time it reports.
    const now = Date.now();
    const attributes: Attributes = { 'quiesce.restart.mode': message.mode, 'quiesce.restart.outcome': message.outcome };
    if (message.pid !== undefined) attributes['quiesce.restart.pid'] = message.pid;
    if (message.reason !== undefined) attributes['quiesce.restart.reason'] = message.reason;
    const span = this.#tracer.startSpan(RESTART_SPAN, { attributes, startTime: now - message.durationMs });
    if (message.outcome === 'rolled-back') span.setStatus({ code: SpanStatusCode.ERROR, message: message.reason ?? 'rolled back' });
    span.end(now);
  }

  generation(event: 'spawned' | 'ready' | 'failed' | 'retired' | 'exited', message: GenerationMessage & { readonly while?: string }): void {
    // A generation that exits while serving was not asked to: count it apart, as a crash.
    const name = event === 'exited' && message.while === 'serving' ? 'crashed' : event;
    this.#generations.add(1, { 'quiesce.restart.mode': message.mode, 'quiesce.generation.event': name });
  }

  /** Ends every open span now (the instrumentation is disposed mid-shutdown). */
  endAll(): void {
    for (const open of [...this.#open.values()]) {
      this.#close(open);
      open.root.setAttribute('quiesce.shutdown.incomplete', true);
      open.root.end();
    }
  }

  #close(open: OpenShutdown): void {
    for (const phase of open.phases.values()) endPhase(phase);
    open.phases.clear();
    this.#open.delete(open.id);
    if (this.#current === open) this.#current = [...this.#open.values()].at(-1);
  }
}

function endPhase(phase: OpenPhase): void {
  if (phase.hooks > 0) phase.span.setAttributes({ 'quiesce.hooks.total': phase.hooks, 'quiesce.hooks.failed': phase.failed.length });
  if (phase.failed.length > 0) phase.span.setStatus({ code: SpanStatusCode.ERROR, message: phase.failed.join(', ') });
  phase.span.end();
}
