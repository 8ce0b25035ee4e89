// Publishes a whole shutdown, as the lifecycle, hooks, drain and registry will, on the real
// diagnostics channels (by name, through node:diagnostics_channel): the events of the catalog
// with made-up but consistent values. Used by the unit tests and the OTLP receiver tests.
import { channel } from 'node:diagnostics_channel';
import type {
  ConnectionClosedMessage,
  DrainEndMessage,
  HookEndMessage,
  HookRunMessage,
  RegistryCallMessage,
  ShutdownEndMessage,
  ShutdownPhaseEndMessage,
  ShutdownPhaseStartMessage,
  ShutdownStartMessage,
} from '@quiesce/core';

const publish = <M>(name: string, message: M): void => channel(name).publish(message);

export interface SyntheticShutdownOptions {
  readonly shutdownId?: number;
  /** `forced`: the deadline cuts 2 requests and 3 connections; `failed`: the cleanup hook `db` throws. */
  readonly outcome?: 'clean' | 'failed' | 'forced';
  /** Runs between the drain's end and the cleanup (e.g. to look at what is open). */
  readonly duringCleanup?: () => void;
}

/** Publishes the events of one shutdown and returns its final report message. */
export function publishSyntheticShutdown(options: SyntheticShutdownOptions = {}): ShutdownEndMessage {
  const { shutdownId = 1, outcome = 'clean' } = options;
  const forced = outcome === 'forced';
  const phase = (name: ShutdownPhaseStartMessage['phase'], startMs: number, durationMs: number, during?: () => void): ShutdownPhaseEndMessage => {
    publish<ShutdownPhaseStartMessage>('quiesce:shutdown:phase:start', { shutdownId, phase: name, startMs });
    during?.();
    const end = { shutdownId, phase: name, startMs, durationMs };
    publish<ShutdownPhaseEndMessage>('quiesce:shutdown:phase:end', end);
    return end;
  };
  const hook = (message: HookEndMessage): HookEndMessage => {
    publish('quiesce:hook:end', message);
    return message;
  };
  const run = (hooks: HookEndMessage[]): HookRunMessage => {
    const count = (status: HookEndMessage['status']): number => hooks.filter((h) => h.status === status).length;
    const totals = { total: hooks.length, ok: count('ok'), error: count('error'), timeout: count('timeout'), aborted: count('aborted') };
    return { durationMs: 1, deadlineHit: false, ok: totals.ok === totals.total, totals, hooks };
  };
  const closed = (how: ConnectionClosedMessage['how'], inFlight: number, upgraded = false): void =>
    publish<ConnectionClosedMessage>('quiesce:drain:connection-closed', { how, inFlight, upgraded });

  publish<ShutdownStartMessage>('quiesce:shutdown:start', {
    shutdownId,
    reason: 'SIGTERM',
    kind: 'shutdown',
    adapter: 'node',
    deadlineMs: 10_000,
    lameDuckMs: 100,
    cleanupReserveMs: 1_000,
  });
  const deregistered: HookEndMessage[] = [];
  const lameDuck = phase('lame-duck', 0, 100, () => {
    phase('deregister', 0, 4, () => {
      publish<RegistryCallMessage>('quiesce:registry:call', { registry: 'etcd', operation: 'deregister', outcome: 'ok', durationMs: 3.5, entry: '/services/example/127.0.0.1:3000', error: undefined });
      deregistered.push(hook({ name: 'etcd', phase: 'deregister', status: 'ok', durationMs: 4, error: undefined }));
    });
    closed('response-last', 0);
  });
  const phases: ShutdownPhaseEndMessage[] = [lameDuck];
  phases.unshift({ shutdownId, phase: 'deregister', startMs: 0, durationMs: 4 });
  phases.push(phase('stop-accepting', 100, 1));
  const shutdownHooks: HookEndMessage[] = [];
  const drain: DrainEndMessage = {
    outcome: forced ? 'forced' : 'drained',
    durationMs: forced ? 8_899 : 250,
    inFlightAtStart: forced ? 3 : 1,
    requestsCompleted: 1,
    requestsCut: forced ? 2 : 0,
    idleClosed: 2,
    preconnectsClosed: 1,
    forceClosed: forced ? 3 : 0,
    upgradedAtStart: 2,
    upgradedClosed: forced ? 1 : 2,
    upgradedForceClosed: forced ? 1 : 0,
    streamsAtStart: 1,
    streamsCut: forced ? 1 : 0,
  };
  phases.push(
    phase('drain', 101, drain.durationMs, () => {
      publish('quiesce:drain:progress', { state: 'draining', connections: 4, idle: 3, upgraded: 0, inFlight: 1 });
      closed('preconnect', 0);
      closed('idle', 0);
      closed('idle', 0);
      closed('peer', 0);
      if (forced) for (let i = 0; i < 3; i++) closed('forced', 1);
      shutdownHooks.push(hook({ name: 'queue', phase: 'shutdown', status: forced ? 'aborted' : 'ok', durationMs: 20, error: undefined }));
      publish<DrainEndMessage>('quiesce:drain:end', drain);
    }),
  );
  const cleanupHooks: HookEndMessage[] = [];
  const drainEnd = 101 + drain.durationMs;
  phases.push(
    phase('cleanup', drainEnd, 3, () => {
      options.duringCleanup?.();
      publish<RegistryCallMessage>('quiesce:registry:call', { registry: 'etcd', operation: 'close', outcome: 'ok', durationMs: 0.2, entry: undefined, error: undefined });
      cleanupHooks.push(hook({ name: 'etcd.close', phase: 'cleanup', status: 'ok', durationMs: 0.2, error: undefined }));
      const failed = outcome === 'failed';
      cleanupHooks.push(hook({ name: 'db', phase: 'cleanup', status: failed ? 'error' : 'ok', durationMs: 2, error: failed ? new Error('pool already closed') : undefined }));
    }),
  );
  const report: ShutdownEndMessage = {
    shutdownId,
    reason: 'SIGTERM',
    outcome,
    exitCode: outcome === 'clean' ? 0 : 1,
    durationMs: drainEnd + 3,
    deadlineMs: 10_000,
    phases: phases.map(({ phase: name, startMs, durationMs }) => ({ name, startMs, durationMs })),
    drain,
    deregistration: run(deregistered),
    hooks: { ...run(shutdownHooks), deadlineHit: forced },
    cleanup: run(cleanupHooks),
  };
  publish<ShutdownEndMessage>('quiesce:shutdown:end', report);
  return report;
}
