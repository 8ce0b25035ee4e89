import type { ConnectionTracker, ServerAdapter } from '@quiesce/drain';
import { type NodeAdapter, type NodeHttpServer, createNodeAdapter } from '@quiesce/node';

/** A {@link ServerAdapter} over every server an app listens on, all reporting to one tracker. */
export interface ServerSetAdapter extends ServerAdapter {
  /** Wraps one more server; call it before the server accepts its first connection. */
  add(server: NodeHttpServer): void;
  readonly servers: readonly NodeHttpServer[];
}

/**
 * One app may listen more than once (http and https, two ports): each server gets a Node adapter
 * sharing `tracker`, so one drain covers them all and `stopAccepting` closes every listener.
 */
export function createServerSetAdapter(name: string, tracker: ConnectionTracker, tcpKeepAliveMs: number | false): ServerSetAdapter {
  const adapters: NodeAdapter[] = [];
  return {
    name,
    tracker,
    get servers(): readonly NodeHttpServer[] {
      return adapters.map((adapter) => adapter.server);
    },
    add(server: NodeHttpServer): void {
      if (adapters.some((adapter) => adapter.server === server)) return;
      adapters.push(createNodeAdapter(server, { tracker, tcpKeepAliveMs }));
    },
    async stopAccepting(): Promise<void> {
      await Promise.all(adapters.map((adapter) => adapter.stopAccepting()));
    },
    dispose(): void {
      for (const adapter of adapters) adapter.dispose();
    },
  };
}
