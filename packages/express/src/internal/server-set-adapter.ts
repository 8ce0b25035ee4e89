import type { BeginShutdownOptions, DeadlineSignalOptions, DrainReport, ServerAdapter, TrackerStats } from '@quiesce/drain';
import { type NodeAdapter, type NodeAdapterOptions, type NodeHttpServer, createNodeAdapter } from '@quiesce/node';

/** A {@link ServerAdapter} over every server an app listens on. */
export interface ServerSetAdapter extends ServerAdapter {
  /** Wraps one more server; call it before the server accepts its first connection. */
  add(server: NodeHttpServer): void;
  readonly servers: readonly NodeHttpServer[];
}

/**
 * One app may listen more than once (http and https, two ports): each server gets a Node adapter
 * with the same settings, and the set drives them together: one lame duck, every listener closed,
 * one drain whose report adds theirs up. A server added after shutdown began serves with
 * `Connection: close` from its first response.
 */
export function createServerSetAdapter(name: string, options: NodeAdapterOptions): ServerSetAdapter {
  const adapters: NodeAdapter[] = [];
  /** Set once shutdown began, with its reason, for every adapter (later ones too). */
  let closing: BeginShutdownOptions | false = false;
  let wakeReady: () => void = () => {};
  let stopping: Promise<void> | undefined;
  let draining: Promise<DrainReport> | undefined;
  return {
    name,
    get servers(): readonly NodeHttpServer[] {
      return adapters.map((adapter) => adapter.server);
    },
    add(server: NodeHttpServer): void {
      if (adapters.some((adapter) => adapter.server === server)) return;
      const adapter = createNodeAdapter(server, options);
      if (closing) adapter.beginShutdown(closing);
      adapters.push(adapter);
      wakeReady();
    },
    /** Once there is a server and every server added so far listens. */
    async ready(): Promise<void> {
      for (;;) {
        const current = adapters.slice();
        if (current.length === 0) await new Promise<void>((resolve) => (wakeReady = resolve));
        else {
          await Promise.all(current.map((adapter) => adapter.ready()));
          if (adapters.length === current.length) return;
        }
      }
    },
    beginShutdown(beginOptions?: BeginShutdownOptions): void {
      closing ||= { reason: beginOptions?.reason };
      for (const adapter of adapters) adapter.beginShutdown(closing);
    },
    stopAccepting(stopOptions: DeadlineSignalOptions): Promise<void> {
      stopping ??= Promise.all(adapters.map((adapter) => adapter.stopAccepting(stopOptions))).then(() => {});
      return stopping;
    },
    drain(drainOptions: DeadlineSignalOptions): Promise<DrainReport> {
      draining ??= Promise.all(adapters.map((adapter) => adapter.drain(drainOptions))).then(combineReports);
      return draining;
    },
    forceClose: (): number => adapters.reduce((n, adapter) => n + adapter.forceClose(), 0),
    upgraded: (): readonly unknown[] => adapters.flatMap((adapter) => adapter.upgraded()),
    stats(): TrackerStats {
      const all = adapters.map((adapter) => adapter.stats());
      const sum = (key: 'connections' | 'idle' | 'upgraded' | 'inFlight'): number => all.reduce((n, stats) => n + stats[key], 0);
      const state = all.length === 0 ? (closing ? 'closing' : 'serving') : all[0]!.state;
      return { state, connections: sum('connections'), idle: sum('idle'), upgraded: sum('upgraded'), inFlight: sum('inFlight') };
    },
    dispose(): void {
      for (const adapter of adapters) adapter.dispose();
    },
  };
}

/** One report for several drains run together: forced if any was, the longest duration, counts added up. */
function combineReports(reports: readonly DrainReport[]): DrainReport {
  const sum = (key: Exclude<keyof DrainReport, 'outcome' | 'durationMs'>): number => reports.reduce((n, report) => n + report[key], 0);
  return {
    outcome: reports.some((report) => report.outcome === 'forced') ? 'forced' : 'drained',
    durationMs: reports.reduce((max, report) => Math.max(max, report.durationMs), 0),
    inFlightAtStart: sum('inFlightAtStart'),
    requestsCompleted: sum('requestsCompleted'),
    requestsCut: sum('requestsCut'),
    idleClosed: sum('idleClosed'),
    preconnectsClosed: sum('preconnectsClosed'),
    forceClosed: sum('forceClosed'),
    upgradedAtStart: sum('upgradedAtStart'),
    upgradedClosed: sum('upgradedClosed'),
    upgradedForceClosed: sum('upgradedForceClosed'),
    streamsAtStart: sum('streamsAtStart'),
    streamsCut: sum('streamsCut'),
  };
}
