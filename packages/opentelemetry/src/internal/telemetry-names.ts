/*
 * Every span and metric name this package writes: the surface dashboards and alerts are built on
 * (the README lists them with their attributes). A name may be added, never renamed or removed
 * without a major version.
 */

/** The root span of one shutdown. */
export const SHUTDOWN_SPAN = 'quiesce.shutdown';
/** A hot restart or a `quiesce run` roll. */
export const RESTART_SPAN = 'quiesce.restart';
/** A phase's span: `quiesce.lame-duck`, `quiesce.deregister`, `quiesce.stop-accepting`, `quiesce.drain`, `quiesce.cleanup`. */
export const phaseSpan = (phase: string): string => `quiesce.${phase}`;

export const METRIC = {
  /** Histogram, s: signal to report, by `quiesce.shutdown.outcome` and `quiesce.shutdown.kind`. */
  shutdownDuration: 'quiesce.shutdown.duration',
  /** Histogram, s: each phase, by `quiesce.phase`. */
  phaseDuration: 'quiesce.shutdown.phase.duration',
  /** Counter: shutdowns the deadline cut short (`outcome` `forced`), by `quiesce.shutdown.kind`. */
  deadlineHits: 'quiesce.shutdown.deadline_hits',
  /** Counter: connections closed during shutdown, by `quiesce.connection.closed_by` (idle, preconnect, response-last, peer, forced). */
  connectionsClosed: 'quiesce.drain.connections.closed',
  /** Counter: requests in flight when the deadline cut their connection. */
  requestsCut: 'quiesce.drain.requests.cut',
  /** Counter: deregistrations at the start of the lame duck, by `quiesce.registry` and `quiesce.outcome` (ok, error, timeout, aborted). */
  deregistrations: 'quiesce.deregistrations',
  /** Counter: registry calls, by `quiesce.registry`, `quiesce.registry.operation` and `quiesce.outcome`. */
  registryCalls: 'quiesce.registry.calls',
  /** Counter: hot restarts and `quiesce run` rolls, by `quiesce.restart.mode` and `quiesce.restart.outcome`. */
  restarts: 'quiesce.restarts',
  /** Counter: generation events, by `quiesce.restart.mode` and `quiesce.generation.event` (spawned, ready, failed, retired, exited, crashed). */
  generations: 'quiesce.generations',
} as const;
