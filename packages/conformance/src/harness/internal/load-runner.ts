import { AmbiguousFailure, ConnectFailure, HarnessOptionError } from '../errors.ts';
import type { LoadOptions } from '../load-options.ts';
import type {
  AttemptOutcome,
  ClientLoadCounts,
  LoadCounts,
  LoadFailure,
  LoadResult,
  LoadStopReason,
} from '../load-result.ts';
import type { RawResponse } from '../raw-http.ts';
import { StallWatch } from './stall-watch.ts';
import { checkDuration, checkInteger, checkPort, checkString } from '@quiesce/test-support';

/** Validated options with defaults. */
export interface LoadSettings {
  readonly port: number;
  readonly host: string;
  readonly clients: number;
  readonly path: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly until: PromiseLike<unknown> | AbortSignal | undefined;
  readonly maxRequests: number;
  readonly maxDurationMs: number;
  readonly requestTimeoutMs: number;
  readonly retryDelayMs: number;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;
const MAX_FAILURES = 50;

/** Validates load options; throws {@link HarnessOptionError} naming the first bad one. */
export function loadSettings(options: LoadOptions): LoadSettings {
  if (options === null || typeof options !== 'object') {
    throw new HarnessOptionError('options', options, 'an object with at least a port');
  }
  const {
    port,
    host = '127.0.0.1',
    clients = 20,
    path = '/',
    method = 'GET',
    headers = {},
    until,
    maxRequests = 20_000,
    maxDurationMs = 10_000,
    requestTimeoutMs = 5_000,
    retryDelayMs = 5,
  } = options;
  checkPort('port', port);
  if (typeof host !== 'string' || !LOOPBACK.test(host)) {
    throw new HarnessOptionError('host', host, 'a loopback host (127.0.0.1, ::1 or localhost); load never leaves the machine');
  }
  checkInteger('clients', clients, 1);
  if (clients > 1_000) throw new HarnessOptionError('clients', clients, 'at most 1000');
  checkString('path', path);
  checkString('method', method);
  if (headers === null || typeof headers !== 'object') throw new HarnessOptionError('headers', headers, 'an object');
  const isPromise = typeof (until as PromiseLike<unknown> | undefined)?.then === 'function';
  if (until !== undefined && !(until instanceof AbortSignal) && !isPromise) {
    throw new HarnessOptionError('until', until, 'a Promise or an AbortSignal');
  }
  checkInteger('maxRequests', maxRequests, 1);
  checkDuration('maxDurationMs', maxDurationMs);
  checkDuration('requestTimeoutMs', requestTimeoutMs);
  if (typeof retryDelayMs !== 'number' || !Number.isFinite(retryDelayMs) || retryDelayMs < 0) {
    throw new HarnessOptionError('retryDelayMs', retryDelayMs, 'a finite number of milliseconds ≥ 0');
  }
  return { port, host, clients, path, method, headers, until, maxRequests, maxDurationMs, requestTimeoutMs, retryDelayMs };
}

function emptyCounts(): LoadCounts {
  return {
    attempts: 0,
    ok: 0,
    refused: 0,
    ambiguous: 0,
    error: 0,
    refusedByErrno: {},
    ambiguousByKind: { reset: 0, 'closed-without-response': 0, timeout: 0 },
    connections: 0,
    connectionCloseResponses: 0,
    statuses: {},
  };
}

/** What a client's attempt function reports back. */
export interface ClientRun {
  readonly client: number;
  readonly settings: LoadSettings;
  /** Counts a TCP connection opened. */
  connected(): void;
  /** Records a complete response. */
  ok(response: RawResponse): void;
  /** Classifies and records a failed attempt; resolves after the retry delay. */
  failed(error: unknown): Promise<void>;
}

/** One client: runs `attempt` while budget and time remain, then `cleanup` (must not throw). */
export interface LoadClient {
  attempt(run: ClientRun): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Runs `settings.clients` clients concurrently until `until`, the request budget or the time budget
 * stops them, and accounts for every attempt exactly once.
 */
export async function runLoad(settings: LoadSettings, makeClient: (index: number) => LoadClient): Promise<LoadResult> {
  const startedAt = performance.now();
  const stallWatch = new StallWatch();
  let stoppedBy: LoadStopReason | undefined;
  let issued = 0;
  const failures: LoadFailure[] = [];

  const controller = new AbortController();
  const { until } = settings;
  if (until instanceof AbortSignal) {
    if (until.aborted) stoppedBy = 'until';
    else until.addEventListener('abort', () => controller.abort(), { once: true, signal: controller.signal });
  } else if (until) {
    until.then(
      () => controller.abort(),
      () => controller.abort(),
    );
  }
  const durationTimer = setTimeout(() => {
    stoppedBy ??= 'maxDuration';
  }, settings.maxDurationMs);
  controller.signal.addEventListener('abort', () => {
    stoppedBy ??= 'until';
  });

  /** Claims one attempt from the budget, or says the run is over. */
  const next = (): boolean => {
    if (stoppedBy !== undefined) return false;
    if (performance.now() - startedAt >= settings.maxDurationMs) {
      stoppedBy = 'maxDuration';
      return false;
    }
    if (issued >= settings.maxRequests) {
      stoppedBy = 'maxRequests';
      return false;
    }
    issued += 1;
    return true;
  };

  const clientCounts: ClientLoadCounts[] = [];
  const runClient = async (index: number): Promise<void> => {
    const counts: ClientLoadCounts = { client: index, ...emptyCounts() };
    clientCounts[index] = counts;
    const client = makeClient(index);
    const record = (outcome: AttemptOutcome): void => {
      counts.attempts += 1;
      counts[outcome] += 1;
    };
    const run: ClientRun = {
      client: index,
      settings,
      connected: () => {
        counts.connections += 1;
      },
      ok: (response) => {
        record('ok');
        counts.statuses[response.status] = (counts.statuses[response.status] ?? 0) + 1;
        if (response.connectionClose) counts.connectionCloseResponses += 1;
      },
      failed: async (error) => {
        let outcome: Exclude<AttemptOutcome, 'ok'> = 'error';
        let kind: LoadFailure['kind'];
        if (error instanceof ConnectFailure) {
          outcome = 'refused';
          counts.refusedByErrno[error.errno] = (counts.refusedByErrno[error.errno] ?? 0) + 1;
        } else if (error instanceof AmbiguousFailure) {
          outcome = 'ambiguous';
          kind = error.kind;
          counts.ambiguousByKind[kind] += 1;
        }
        record(outcome);
        if (failures.length < MAX_FAILURES) {
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          failures.push({ client: index, outcome, kind, message, atMs: Math.round(performance.now() - startedAt) });
        }
        if (settings.retryDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, settings.retryDelayMs));
      },
    };
    try {
      while (next()) {
        const before = counts.attempts;
        try {
          await client.attempt(run);
        } catch (error) {
          await run.failed(error);
        }
        // An attempt function must record exactly one outcome; anything else is a harness bug.
        if (counts.attempts !== before + 1) {
          throw new Error(`load client ${index} recorded ${counts.attempts - before} outcomes for one attempt`);
        }
      }
    } finally {
      await client.cleanup();
    }
  };

  try {
    await Promise.all(Array.from({ length: settings.clients }, (_, index) => runClient(index)));
  } finally {
    clearTimeout(durationTimer);
    controller.abort();
  }
  const stalls = stallWatch.stop();

  const totals = emptyCounts();
  for (const counts of clientCounts) {
    totals.attempts += counts.attempts;
    totals.ok += counts.ok;
    totals.refused += counts.refused;
    totals.ambiguous += counts.ambiguous;
    totals.error += counts.error;
    totals.connections += counts.connections;
    totals.connectionCloseResponses += counts.connectionCloseResponses;
    for (const kind of Object.keys(totals.ambiguousByKind) as (keyof LoadCounts['ambiguousByKind'])[]) {
      totals.ambiguousByKind[kind] += counts.ambiguousByKind[kind];
    }
    for (const [errno, count] of Object.entries(counts.refusedByErrno)) {
      totals.refusedByErrno[errno] = (totals.refusedByErrno[errno] ?? 0) + count;
    }
    for (const [status, count] of Object.entries(counts.statuses)) {
      totals.statuses[Number(status)] = (totals.statuses[Number(status)] ?? 0) + count;
    }
  }
  return {
    clients: clientCounts,
    totals,
    failures,
    stoppedBy: stoppedBy ?? 'until',
    durationMs: Math.round(performance.now() - startedAt),
    longestClientStallMs: stalls.longestMs,
    clientStalls: stalls.stalls,
  };
}
