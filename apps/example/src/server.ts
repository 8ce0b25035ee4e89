/**
 * The Quiesce example: one graceful HTTP server. Interface (fixed; tests and docs rely on it):
 * env PORT (3000), HOST (127.0.0.1), QUIESCE_LAME_DUCK_MS (0), QUIESCE_DEADLINE_MS (10000);
 * prints `listening on http://HOST:PORT`; routes `/`, `/slow?ms=N`, `/healthz`, `/readyz`, each
 * response with `x-pid`; SIGTERM/SIGINT/SIGHUP drain and exit 0 (non-zero when the deadline forced
 * it); a second signal exits at once, non-zero.
 */
import { createServer } from 'node:http';
import { RegistryEnvError, createLifecycle, registryFromEnv } from 'quiesce';
import { createNodeAdapter } from 'quiesce/node';
import { ExampleConfigError, readConfig } from './config.ts';
import { route } from './routes.ts';

let config: ReturnType<typeof readConfig>;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ExampleConfigError)) throw error;
  console.error(`quiesce-example: ${error.message}`);
  process.exit(2);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const result = route(req.method ?? 'GET', url, { ready: lifecycle.isReady(), live: lifecycle.isLive() });
  const send = (): void => {
    res.writeHead(result.status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(result.body)),
      'x-pid': String(process.pid),
    });
    res.end(req.method === 'HEAD' ? undefined : result.body);
  };
  if (result.delayMs) {
    const timer = setTimeout(send, result.delayMs);
    res.once('close', () => clearTimeout(timer));
  } else send();
});

const lifecycle = createLifecycle({
  adapter: createNodeAdapter(server),
  deadlineMs: config.deadlineMs,
  lameDuckMs: config.lameDuckMs,
});

server.once('error', (error: NodeJS.ErrnoException) => {
  console.error(`quiesce-example: cannot listen on ${config.host}:${config.port}: ${error.message}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  lifecycle.install();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.log(`listening on http://${host}:${port}`);
  void register(port);
});

/** Registers in etcd (ETCD_ENDPOINTS) and/or Consul (CONSUL_HTTP_ADDR) when configured. */
async function register(port: number): Promise<void> {
  let registry: ReturnType<typeof registryFromEnv>;
  try {
    registry = registryFromEnv(process.env, { service: 'quiesce-example', host: config.host, port });
  } catch (error) {
    if (!(error instanceof RegistryEnvError)) throw error;
    console.error(`quiesce-example: ${error.message}`);
    process.exit(2);
  }
  if (!registry) return;
  lifecycle.useRegistry(registry);
  const result = await registry.register();
  console.log(`registered in ${registry.name}: ${result.outcome} in ${Math.round(result.durationMs)}ms`);
}
