// The hello-world server every Node row measures, bare or wrapped. One file, so that the handler is
// byte-for-byte the same in every variant.
//
// Env: PORT (0), HOST (127.0.0.1), BENCH_VARIANT (bare | quiesce | http-terminator | terminus |
// stoppable | exit), BENCH_DEADLINE_MS (10000: every wrapper's force-close deadline), QUIESCE_LAME_DUCK_MS (0).
// Routes: / → "hello world\n"; /slow?ms=N → the same after N ms.
// SIGTERM: the variant's own graceful shutdown, then exit. `bare` is Node's own server.close()
// (which on Node ≥ 19 also closes idle keep-alive sockets).
// SIGUSR2: gc() twice, then prints `heap <heapUsed> rss <rss> connections <n>` (for part 3).
import { createServer } from 'node:http';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';

const variant = process.env.BENCH_VARIANT || 'bare';
const deadlineMs = Number(process.env.BENCH_DEADLINE_MS || 10_000);
const lameDuckMs = Number(process.env.QUIESCE_LAME_DUCK_MS || 0);

const body = 'hello world\n';
const server = createServer((req, res) => {
  if (req.url.startsWith('/slow')) {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 200);
    setTimeout(() => res.end(body), ms);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(body);
});

const exit = (code = 0) => process.exit(code);

switch (variant) {
  case 'exit': {
    // The floor, not a graceful shutdown: exit the moment nothing is in flight (at once when idle,
    // else right after the last response is handed to the kernel). Idle sockets are left to the
    // kernel to close. How fast a Node process can exit at all.
    let inFlight = 0;
    let stopping = false;
    server.prependListener('request', (_req, res) => {
      inFlight++;
      res.once('finish', () => {
        if (--inFlight === 0 && stopping) exit(0);
      });
    });
    process.once('SIGTERM', () => {
      stopping = true;
      if (inFlight === 0) exit(0);
    });
    break;
  }
  case 'bare':
    process.once('SIGTERM', () => server.close(() => exit(0)));
    break;
  case 'quiesce': {
    const { createLifecycle } = await import('quiesce');
    const { createNodeAdapter } = await import('quiesce/node');
    const lifecycle = createLifecycle({ adapter: createNodeAdapter(server), deadlineMs, lameDuckMs });
    lifecycle.install();
    break;
  }
  case 'http-terminator': {
    const { createHttpTerminator } = await import('http-terminator');
    const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: deadlineMs });
    process.once('SIGTERM', () => terminator.terminate().then(() => exit(0), () => exit(1)));
    break;
  }
  case 'terminus': {
    const { createTerminus } = await import('@godaddy/terminus');
    // As terminus's README sets it up: one health check, SIGTERM, a timeout; it exits 0 when done.
    createTerminus(server, { signal: 'SIGTERM', timeout: deadlineMs, useExit0: true, healthChecks: { '/healthcheck': async () => {} } });
    break;
  }
  case 'stoppable': {
    const { default: stoppable } = await import('stoppable');
    stoppable(server, deadlineMs);
    process.once('SIGTERM', () => server.stop(() => exit(0)));
    break;
  }
  default:
    console.error(`node-server: unknown BENCH_VARIANT ${JSON.stringify(variant)}`);
    exit(2);
}

process.on('SIGUSR2', () => {
  if (typeof globalThis.gc !== 'function') {
    setFlagsFromString('--expose-gc');
    globalThis.gc = runInNewContext('gc');
  }
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  server.getConnections((_, n) => console.log(`heap ${heapUsed} rss ${rss} connections ${n}`));
});

server.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', () => {
  console.log(`listening on http://${process.env.HOST || '127.0.0.1'}:${server.address().port}`);
});
