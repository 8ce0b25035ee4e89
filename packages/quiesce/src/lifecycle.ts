import { type ServerAdapter, lameDuck } from '@quiesce/drain';
import { type Clock, Deadline, systemClock } from '@quiesce/core';
import { type AddHookOptions, type HookFunction, createShutdownHooks } from '@quiesce/hooks';
import { type ServiceNotifier, createServiceNotifier, listenForStopRequests, reportReady, warnIfPidOne } from '@quiesce/listener';
import { type ExitCodes, type SignalPolicy, type SignalPolicyOptions, createSignalPolicy, exitCodeFor } from '@quiesce/signals';
import { LifecycleOptionError, check } from './errors.ts';
import { shutdownEvents } from './internal/shutdown-events.ts';
import { type ShutdownPhase, type ShutdownPhaseName, type ShutdownReport, formatShutdownReport } from './shutdown-report.ts';
import { formatShutdownReportJson } from './shutdown-report-json.ts';
import { DrainStartedError, type ShutdownKind, shutdownKindOf } from './shutdown-signal.ts';

/** Where the service is: `serving`, then the steps of shutdown, then `stopped`. */
export type LifecycleState = 'serving' | 'lame-duck' | 'draining' | 'cleanup' | 'stopped';

/** Options for {@link createLifecycle}. */
export interface LifecycleOptions {
  /** The server adapter (`createNodeAdapter(server)`, the Bun or Deno adapter, a framework adapter). */
  adapter: ServerAdapter;
  /** Upper bound for the whole shutdown, from the signal to exit. Default 10 000. */
  deadlineMs?: number;
  /**
   * How long the listener keeps accepting after readiness turns false, so load balancers stop
   * routing here first. Default 0. Kubernetes: readiness `failureThreshold × periodSeconds`, or 0
   * when a `preStop` sleep already covers it. Must be less than `deadlineMs`.
   */
  lameDuckMs?: number;
  /**
   * Time kept back at the end of the deadline for cleanup hooks when any are registered: the drain
   * is forced at `deadlineMs − cleanupReserveMs`. Default `min(1000, deadlineMs / 2)`.
   */
  cleanupReserveMs?: number;
  /** Where the one-line report goes. Default `console.log`; `false` for silence. */
  log?: ((line: string) => void) | false;
  /**
   * How the one report line is written: `text` (default), the human line of
   * {@link formatShutdownReport}; `json`, one JSON object on one line for log pipelines, with stable
   * field names ({@link formatShutdownReportJson}; the fields are documented on `ShutdownReportJson`).
   */
  logFormat?: 'text' | 'json';
  /**
   * Exit codes for the outcomes: clean 0, failed 1 (a shutdown or cleanup hook failed or timed
   * out), forced 1 (the deadline cut requests, sockets or hooks), error 1 (started by an uncaught
   * error), 128 + n after an immediate stop by signal n. A failed deregistration does not change
   * the code (see {@link ShutdownReport.exitCode}).
   */
  exitCodes?: Partial<ExitCodes>;
  /**
   * Signal policy options for {@link Lifecycle.install} (mapping, custom waiter, `catchErrors`,
   * `exit`, `restart`). The graceful and immediate actions are the lifecycle's own; the process
   * exits with the report's exit code. A `restart` handler that resolves to
   * `{ outcome: 'restarted', exitCode }` (what `hotRestart()` returns once the new process took over,
   * `exitCode` being this process's report's) makes the policy exit with that code.
   */
  signals?: Omit<SignalPolicyOptions, 'graceful' | 'immediate' | 'exitCodes'>;
  /**
   * When readiness is reported to whoever started the process (`quiesce run`, a hot-restart parent,
   * both through `QUIESCE_READY_FD`; a no-op otherwise). `auto` (default): {@link Lifecycle.install}
   * reports it as soon as the adapter serves ({@link ServerAdapter.ready}): the signal handlers are
   * installed by then, so the starter may signal this process right after. `manual`: the app calls
   * {@link Lifecycle.reportReady} once it has warmed up. Either way it is reported once per process.
   */
  readiness?: 'auto' | 'manual';
  /** Receives the sockets of upgraded connections (WebSocket) when the drain starts, to close them with 1001. */
  onUpgraded?: (sockets: unknown[], signal: AbortSignal) => unknown;
  /** Time source. Default `systemClock`. */
  clock?: Clock;
  /**
   * Tells the service manager what the service does (systemd sd_notify, PM2): READY=1 when serving,
   * STOPPING=1 and a STATUS= per phase during shutdown. Default: one for this process's environment,
   * which does nothing without NOTIFY_SOCKET or PM2.
   */
  serviceNotifier?: ServiceNotifier;
}

/** A service's lifecycle: readiness, hooks, and the shutdown sequence. See {@link createLifecycle}. */
export interface Lifecycle {
  readonly state: LifecycleState;
  /** The report once shutdown has finished. */
  readonly report: ShutdownReport | undefined;
  /**
   * Aborts when the drain starts: the listener has closed (a client that reconnects lands on another
   * instance) and WebSockets are being closed. Hand it to long-lived work (a Server-Sent Events
   * stream, a long poll, a consumer loop) the way Go code passes a context: end the stream properly
   * when it aborts. Its `reason` is a {@link DrainStartedError} whose `kind` is `shutdown` or
   * `restart`. Not aborted during the lame duck, when everything keeps working.
   */
  readonly signal: AbortSignal;
  /** `shutdown` or `restart` once shutdown has begun (see {@link ShutdownKind}); `undefined` while serving. */
  readonly shutdownKind: ShutdownKind | undefined;
  /** Readiness: true while serving, false from the first signal on (answer `/readyz` with 503). */
  isReady(): boolean;
  /** Liveness: true until the process is about to exit (answer `/healthz` with 200). */
  isLive(): boolean;
  /** Adds a hook that runs concurrently with the drain, under the deadline. */
  onShutdown(name: string, run: HookFunction, options?: Omit<AddHookOptions, 'phase'>): void;
  /** Adds a final cleanup hook that runs after the drain (close the database, flush logs). */
  onCleanup(name: string, run: HookFunction, options?: Omit<AddHookOptions, 'phase'>): void;
  /**
   * Adds a flush that runs last, after the report is final and logged, in what is left of the
   * deadline: telemetry of the shutdown itself (`@quiesce/opentelemetry` flushes its providers
   * here). A flush that fails or hangs is cut by the deadline and never changes the exit code.
   */
  onFlush(name: string, run: HookFunction, options?: Omit<AddHookOptions, 'phase'>): void;
  /** Adds a deregistration (service registry) that runs at the start of the lame duck; default timeout 2 s. */
  onDeregister(name: string, run: HookFunction, options?: Omit<AddHookOptions, 'phase'>): void;
  /**
   * Deregisters `registry` at the start of the lame duck and closes it in cleanup. A failed or
   * timed-out deregistration is recorded in the report (`deregistration`) and shutdown goes on.
   */
  useRegistry(registry: DeregistrableRegistry): void;
  /**
   * Installs the signal policy (SIGTERM / SIGINT / SIGHUP graceful, a second one immediate; the
   * process exits with the report's exit code). With `readiness: 'auto'` (default), then reports
   * readiness once the adapter serves. No-op if installed.
   */
  install(): Lifecycle;
  /**
   * Reports readiness to whoever started the process (`quiesce run`, a hot-restart parent) once the
   * server serves and {@link Lifecycle.install} has run, whichever comes last. Resolves `true` when
   * the starter was told, `false` when there is nobody to tell (or it was told already); never
   * rejects. Call it with `readiness: 'manual'` once warmed up; with `auto`, `install()` calls it and
   * the promise says when readiness went out.
   */
  reportReady(): Promise<boolean>;
  /** Removes exactly the signal listeners {@link Lifecycle.install} added. */
  uninstall(): void;
  /**
   * Runs the shutdown sequence once; later calls return the same promise. Never rejects. `reason`
   * names it in the report; `'restart'` makes it a restart (WebSockets get 1012, the signal's kind
   * is `restart`): what a hot restart's `stop` passes.
   */
  shutdown(reason?: string): Promise<ShutdownReport>;
  /** Immediate stop: destroys every connection now (the adapter's `forceClose()`). Returns how many were destroyed. */
  forceClose(): number;
}

const DEREGISTER_TIMEOUT_MS = 2_000;

/** The part of a service registry (`@quiesce/registry`) the lifecycle drives. */
export interface DeregistrableRegistry {
  readonly name: string;
  deregister(options: { signal?: AbortSignal }): Promise<RegistryCallResult>;
  close(options: { signal?: AbortSignal }): Promise<RegistryCallResult>;
}

/** What a registry call resolves to (it never rejects). */
export interface RegistryCallResult {
  readonly outcome: 'ok' | 'error' | 'timeout';
  readonly error?: unknown;
}

/**
 * Creates the lifecycle of one server: the whole graceful-shutdown sequence, each step bounded by
 * one global deadline:
 * 1. intake (a signal or {@link Lifecycle.shutdown}; it happens once);
 * 2. lame duck: readiness false, `adapter.beginShutdown()` (every response `Connection: close`), the
 *    listener still accepts for `lameDuckMs`, idle keep-alive sockets stay open;
 * 3. deregistration from service registries, during the lame duck, bounded;
 * 4. `adapter.stopAccepting({ signal })`, leaving open connections alone;
 * 5. `adapter.drain({ signal })`, concurrently with the shutdown hooks: requests finish, idle
 *    sockets close with FIN;
 * 6. at the deadline (`signal` aborts, `cleanupReserveMs` early when there are cleanup hooks): the
 *    adapter cuts what is left, hooks are abandoned, the report records what was cut;
 * 7. cleanup hooks, then the report (logged in one line) and its exit code, the one the process
 *    exits with;
 * 8. flush hooks ({@link Lifecycle.onFlush}: telemetry of the shutdown), in what is left of the deadline.
 * The lifecycle touches the server only through the adapter ({@link ServerAdapter}). Throws
 * {@link LifecycleOptionError} on a bad option.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createLifecycle } from 'quiesce';
 * import { createNodeAdapter } from 'quiesce/node';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * const lifecycle = createLifecycle({ adapter: createNodeAdapter(server), deadlineMs: 10_000 });
 * lifecycle.onCleanup('goodbye', () => console.log('cleaned up'));
 * server.listen(3000, () => lifecycle.install()); // SIGTERM now drains and exits 0
 * ```
 */
export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const config = validate(options);
  const { adapter, deadlineMs, lameDuckMs, clock } = config;
  const deregistration = createShutdownHooks({ phases: ['deregister'], clock });
  const hooks = createShutdownHooks({ phases: ['shutdown'], clock });
  const cleanup = createShutdownHooks({ phases: ['cleanup'], clock });
  const flush = createShutdownHooks({ phases: ['flush'], clock });
  let state: LifecycleState = 'serving';
  let running: Promise<ShutdownReport> | undefined;
  let finalReport: ShutdownReport | undefined;
  let policy: SignalPolicy | undefined;
  let cleanupHooks = 0;
  const notifier = config.serviceNotifier ?? createServiceNotifier({ clock, log: config.log === false ? false : undefined });
  let markInstalled: () => void = () => {};
  const installed = new Promise<void>((resolve) => {
    markInstalled = resolve;
  });
  let readiness: Promise<boolean> | undefined;
  // Made when `signal` is first read: a shutdown nobody gave the signal to has nothing to abort.
  let drainStarted: AbortController | undefined;
  /** The kind of the shutdown whose drain has started (the signal's reason is made from it). */
  let drainStartedKind: ShutdownKind | undefined;
  let shutdownKind: ShutdownKind | undefined;
  let stopListening: () => void = () => {};

  if (config.onUpgraded) {
    const onUpgraded = config.onUpgraded;
    hooks.add('upgraded-connections', (signal) => {
      const sockets = adapter.upgraded();
      return sockets.length > 0 ? onUpgraded([...sockets], signal) : undefined;
    });
  }

  async function runShutdown(reason: string, causedByError: boolean): Promise<ShutdownReport> {
    const started = clock.now();
    const at = (): number => clock.now() - started;
    const phases: ShutdownPhase[] = [];
    const step = async <T>(name: ShutdownPhaseName, work: () => Promise<T>): Promise<T> => {
      notifier.phase(name, deadline.remainingMs());
      const startMs = at();
      events.phaseStart(name, startMs);
      try {
        return await work();
      } finally {
        const phase = { name, startMs, durationMs: at() - startMs };
        phases.push(phase);
        events.phaseEnd(phase);
      }
    };
    const deadline = new Deadline({ timeoutMs: deadlineMs, clock });
    const events = shutdownEvents();
    const stopKind = shutdownKindOf(reason);
    shutdownKind = stopKind;
    // Asked once is enough: the starter's SIGKILL bound holds either way.
    stopListening();
    notifier.stopping({ status: `Shutting down (${reason})`, timeLeftMs: deadline.remainingMs() });
    const reserve = cleanupHooks > 0 ? config.cleanupReserveMs : 0;
    // Without a reserve the drain's deadline is the whole one: no second timer and listener for it.
    const drainDeadline = reserve > 0 ? new Deadline({ timeoutMs: deadlineMs - reserve, signal: deadline.signal, clock }) : deadline;
    events.start(reason, config, reserve);

    // 2–3. Lame duck: not ready, Connection: close on every response, listener open; deregister meanwhile.
    state = 'lame-duck';
    adapter.beginShutdown({ reason: stopKind });
    const [deregistered] = await Promise.all([
      step('deregister', () => deregistration.run({ signal: drainDeadline.signal })),
      step('lame-duck', () => lameDuck(lameDuckMs, { signal: drainDeadline.signal, clock })),
    ]);

    // 4. Stop accepting, without touching open connections.
    await step('stop-accepting', () => adapter.stopAccepting({ signal: drainDeadline.signal }));

    // 5–6. Drain and shutdown hooks together; at the deadline both are cut. Long-lived work ends now:
    // the signal aborts once the drain has counted the streams under way.
    state = 'draining';
    const [drained, hooked] = await step('drain', () => {
      const draining = Promise.all([adapter.drain({ signal: drainDeadline.signal }), hooks.run({ signal: drainDeadline.signal })]);
      drainStartedKind = stopKind;
      drainStarted?.abort(new DrainStartedError(stopKind));
      return draining;
    });
    if (drainDeadline !== deadline) drainDeadline.dispose();

    // 7. Cleanup hooks in the time that is left, then the report.
    state = 'cleanup';
    const cleaned = await step('cleanup', () => cleanup.run({ signal: deadline.signal }));

    // The exit rule: the code tells whether this process did its own work, every request it accepted
    // answered and every hook of the application's done. Deregistration is reported, not counted:
    // the registry forgets the instance by itself when its lease or check expires.
    const forced = drained.outcome === 'forced' || hooked.deadlineHit || cleaned.deadlineHit;
    const failed = !hooked.ok || !cleaned.ok;
    const outcome = forced ? 'forced' : failed ? 'failed' : 'clean';
    const kind = outcome === 'clean' && causedByError ? 'error' : outcome;
    const report: ShutdownReport = {
      reason,
      outcome,
      exitCode: exitCodeFor({ kind }, config.exitCodes),
      durationMs: at(),
      deadlineMs,
      phases,
      drain: drained,
      deregistration: deregistered,
      hooks: hooked,
      cleanup: cleaned,
    };
    state = 'stopped';
    finalReport = report;
    events.end(report);
    void notifier.stopped(`Stopped: ${outcome}, exit code ${report.exitCode}`);
    if (config.log) config.log(config.logFormat === 'json' ? formatShutdownReportJson(report) : formatShutdownReport(report));

    // 8. Flush what observes the shutdown (the report included), last, in what is left of the deadline.
    await flush.run({ signal: deadline.signal });
    deadline.dispose();
    return report;
  }

  // Compare-and-set: the first caller starts the sequence, everyone else gets the same promise.
  const begin = (reason: string, causedByError: boolean): Promise<ShutdownReport> => {
    running ??= runShutdown(reason, causedByError);
    return running;
  };

  const lifecycle: Lifecycle = {
    get state() {
      return state;
    },
    get report() {
      return finalReport;
    },
    get signal() {
      drainStarted ??= new AbortController();
      // Read for the first time once the drain has started: aborted already, with the same reason.
      if (drainStartedKind !== undefined && !drainStarted.signal.aborted) drainStarted.abort(new DrainStartedError(drainStartedKind));
      return drainStarted.signal;
    },
    get shutdownKind() {
      return shutdownKind;
    },
    isReady: () => state === 'serving',
    isLive: () => state !== 'stopped',
    onShutdown: (name, run, hookOptions) => hooks.add(name, run, { ...hookOptions }),
    onFlush: (name, run, hookOptions) => flush.add(name, run, { ...hookOptions }),
    onCleanup: (name, run, hookOptions) => {
      cleanup.add(name, run, { ...hookOptions });
      cleanupHooks++;
    },
    onDeregister: (name, run, hookOptions) =>
      deregistration.add(name, run, { timeoutMs: DEREGISTER_TIMEOUT_MS, ...hookOptions }),
    shutdown: (reason = 'manual') => begin(reason, false),
    forceClose: () => adapter.forceClose(),
    useRegistry(registry: DeregistrableRegistry): void {
      if (!registry || typeof registry.deregister !== 'function' || typeof registry.close !== 'function') {
        throw new LifecycleOptionError('registry', registry, 'a registry with deregister() and close(), e.g. from @quiesce/registry');
      }
      // Registry calls resolve with an outcome instead of rejecting; turn failures into hook errors
      // so that the report shows them.
      const settle = async (call: Promise<RegistryCallResult>): Promise<void> => {
        const result = await call;
        if (result.outcome !== 'ok') throw result.error ?? new Error(`${registry.name}: ${result.outcome}`);
      };
      lifecycle.onDeregister(registry.name, (signal) => settle(registry.deregister({ signal })));
      lifecycle.onCleanup(`${registry.name}.close`, (signal) => settle(registry.close({ signal })));
    },
    install(): Lifecycle {
      const first = policy === undefined;
      policy ??= createSignalPolicy({
        ...config.signals,
        exitCodes: config.exitCodes,
        graceful: async ({ signal, reason }) => {
          const report = await begin(signal ?? describeReason(reason), reason instanceof Error);
          // The exit code is the report's: decided once, here, not again by the policy.
          return { forced: report.outcome === 'forced', failed: report.outcome === 'failed', exitCode: report.exitCode };
        },
        immediate: () => {
          adapter.forceClose();
        },
      });
      policy.install();
      markInstalled();
      // quiesce run asks its old generation to stop for a restart on a channel, not with SIGTERM.
      if (first) {
        const installedPolicy = policy;
        stopListening = listenForStopRequests((request) => void installedPolicy.trigger('graceful', request), {
          warn: config.log === false ? false : undefined,
        });
      }
      if (first) warnIfPidOne({ log: config.log === false ? false : undefined });
      if (config.readiness === 'auto') void lifecycle.reportReady();
      return lifecycle;
    },
    reportReady(): Promise<boolean> {
      // One ready moment for every manager: quiesce run or a hot-restart parent (the pipe), systemd
      // (READY=1) and PM2 (process.send('ready')).
      readiness ??= Promise.all([installed, adapter.ready()])
        .then(() => {
          notifier.ready();
          return reportReady();
        })
        .catch(() => false);
      return readiness;
    },
    uninstall(): void {
      policy?.uninstall();
      stopListening();
    },
  };
  return lifecycle;
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  return reason === undefined ? 'manual' : String(reason);
}

interface Config {
  adapter: ServerAdapter;
  readiness: 'auto' | 'manual';
  deadlineMs: number;
  lameDuckMs: number;
  cleanupReserveMs: number;
  log: ((line: string) => void) | false;
  logFormat: 'text' | 'json';
  exitCodes: Partial<ExitCodes> | undefined;
  signals: LifecycleOptions['signals'];
  onUpgraded: LifecycleOptions['onUpgraded'];
  clock: Clock;
  serviceNotifier: ServiceNotifier | undefined;
}

function validate(options: LifecycleOptions): Config {
  check.object('options', options);
  const { adapter, deadlineMs = 10_000, lameDuckMs = 0, log = console.log, logFormat = 'text', clock = systemClock, readiness = 'auto' } = options;
  if (!isServerAdapter(adapter)) {
    throw new LifecycleOptionError('adapter', adapter, 'a ServerAdapter such as createNodeAdapter(server), serveBun(…) or serveDeno(…)');
  }
  if (readiness !== 'auto' && readiness !== 'manual') throw new LifecycleOptionError('readiness', readiness, '"auto" or "manual"');
  check.positiveDuration('deadlineMs', deadlineMs);
  check.duration('lameDuckMs', lameDuckMs);
  if (lameDuckMs >= deadlineMs) {
    throw new LifecycleOptionError('lameDuckMs', lameDuckMs, `less than deadlineMs (${deadlineMs}), or there is no time left to drain`);
  }
  const cleanupReserveMs = options.cleanupReserveMs ?? Math.min(1_000, deadlineMs / 2);
  check.duration('cleanupReserveMs', cleanupReserveMs);
  if (cleanupReserveMs >= deadlineMs) {
    throw new LifecycleOptionError('cleanupReserveMs', cleanupReserveMs, `less than deadlineMs (${deadlineMs})`);
  }
  check.log('log', log);
  if (logFormat !== 'text' && logFormat !== 'json') throw new LifecycleOptionError('logFormat', logFormat, '"text" or "json"');
  check.clock('clock', clock);
  if (options.onUpgraded !== undefined) check.function('onUpgraded', options.onUpgraded);
  if (options.signals !== undefined) check.object('signals', options.signals, 'an object of signal policy options');
  const notifier = options.serviceNotifier as Partial<ServiceNotifier> | null | undefined;
  if (notifier !== undefined && (notifier === null || typeof notifier !== 'object' || typeof notifier.ready !== 'function')) {
    throw new LifecycleOptionError('serviceNotifier', notifier, 'a ServiceNotifier from createServiceNotifier()');
  }
  return {
    adapter,
    readiness,
    deadlineMs,
    lameDuckMs,
    cleanupReserveMs,
    log,
    logFormat,
    exitCodes: options.exitCodes,
    signals: options.signals,
    onUpgraded: options.onUpgraded,
    clock,
    serviceNotifier: options.serviceNotifier,
  };
}

const ADAPTER_METHODS = ['ready', 'beginShutdown', 'stopAccepting', 'drain', 'forceClose', 'upgraded', 'stats', 'dispose'] as const;

/** Every member of the contract, so that an adapter written against an older one fails here, not mid-shutdown. */
function isServerAdapter(adapter: unknown): adapter is ServerAdapter {
  if (adapter === null || typeof adapter !== 'object') return false;
  const candidate = adapter as Record<string, unknown>;
  return typeof candidate['name'] === 'string' && ADAPTER_METHODS.every((method) => typeof candidate[method] === 'function');
}
