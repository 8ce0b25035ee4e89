/**
 * The Quiesce example: one graceful HTTP server that runs unchanged on Node, Bun and Deno.
 * Interface (fixed; tests and docs rely on it): env PORT (3000), HOST (127.0.0.1),
 * QUIESCE_LAME_DUCK_MS (0), QUIESCE_DEADLINE_MS (10000); prints `listening on http://HOST:PORT`;
 * routes `/`, `/slow?ms=N`, `/healthz`, `/readyz`, each response with `x-pid`; `/events` (Server-Sent
 * Events: `data: tick N` every 100 ms, then `event: shutdown` and the end when the drain starts) and
 * `/ws` (a WebSocket echo, closed with 1001, or 1012 for a restart, when the drain starts); SIGTERM /
 * SIGINT / SIGHUP drain and exit 0 (1 when the deadline forced it); a second signal exits at once with
 * 128 + n. Registers in etcd / Consul when ETCD_ENDPOINTS / CONSUL_HTTP_ADDR are set. A taken port
 * exits 1 naming the port and the pid holding it. On Node, SIGUSR2 restarts without losing a
 * request; under `quiesce run --listen HOST:PORT -- <this>` it adopts the supervisor's socket.
 * With OTEL_EXPORTER_OTLP_ENDPOINT set (OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf or http/json,
 * OTEL_SERVICE_NAME), it exports the shutdown's spans and metrics over OTLP before it exits
 * (telemetry.ts); without it, nothing of OpenTelemetry is loaded.
 *
 * node apps/example/dist/server.js · bun apps/example/src/server.ts · deno run -A apps/example/src/server.ts
 */
import { type Lifecycle, RegistryEnvError, createLifecycle, registryFromEnv } from 'quiesce';
import { asAddressInUseError } from 'quiesce/listener';
import { ExampleConfigError, readConfig } from './config.ts';
import type { RuntimeServer, ServeOptions } from './runtime-server.ts';
import { startTelemetry } from './telemetry.ts';

let config: ReturnType<typeof readConfig>;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ExampleConfigError)) throw error;
  console.error(`quiesce-example: ${error.message}`);
  process.exit(2);
}

let lifecycle: Lifecycle | undefined;
// The lifecycle comes after the server; its signal reaches the routes through this one.
const drainStarted = new AbortController();
const options: ServeOptions = {
  host: config.host,
  port: config.port,
  state: () => ({ ready: lifecycle?.isReady() ?? false, live: lifecycle?.isLive() ?? true }),
  drainStarted: drainStarted.signal,
};

let started: RuntimeServer;
try {
  // Each runtime's own server API, through its adapter; only the running runtime's module loads.
  if ('Bun' in globalThis) started = await (await import('./serve-bun.ts')).serveOnBun(options);
  else if ('Deno' in globalThis) started = await (await import('./serve-deno.ts')).serveOnDeno(options);
  else started = await (await import('./serve-node.ts')).serveNode(options);
} catch (error) {
  // A taken port, on any runtime: the message names the port, the pid holding it and its TCP states.
  const inUse = config.port > 0 ? await asAddressInUseError(error, { port: config.port, host: config.host }) : undefined;
  console.error(`quiesce-example: ${inUse ? inUse.message : `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`}`);
  process.exit(1);
}

const restart = started.restart;
const running = createLifecycle({
  adapter: started.adapter,
  deadlineMs: config.deadlineMs,
  lameDuckMs: config.lameDuckMs,
  // SIGUSR2 restarts without losing a request where the runtime can (Node; under `quiesce run`, the
  // supervisor rolls instead).
  signals: restart ? { restart: () => restart(() => running.shutdown('restart')) } : undefined,
});
lifecycle = running;
running.signal.addEventListener('abort', () => drainStarted.abort(running.signal.reason), { once: true });
// OTEL_EXPORTER_OTLP_ENDPOINT set: spans and metrics of the shutdown, flushed as its last step.
await startTelemetry(running, process.env);
// Signal handlers first; then the lifecycle tells `quiesce run` or a hot-restart parent that this
// process serves (a no-op otherwise): the old process stops, and signals may come, right after.
running.install();
const host = config.host.includes(':') ? `[${config.host}]` : config.host;
console.log(`listening on http://${host}:${started.port}`);
await register(running, started.port);

/** Registers in etcd (ETCD_ENDPOINTS) and/or Consul (CONSUL_HTTP_ADDR) when configured. */
async function register(target: Lifecycle, port: number): Promise<void> {
  let registry: ReturnType<typeof registryFromEnv>;
  try {
    registry = registryFromEnv(process.env, { service: 'quiesce-example', host: config.host, port });
  } catch (error) {
    if (!(error instanceof RegistryEnvError)) throw error;
    console.error(`quiesce-example: ${error.message}`);
    process.exit(2);
  }
  if (!registry) return;
  target.useRegistry(registry);
  const result = await registry.register();
  console.log(`registered in ${registry.name}: ${result.outcome} in ${Math.round(result.durationMs)}ms`);
}
