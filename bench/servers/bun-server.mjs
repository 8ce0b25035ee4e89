// The hello-world server of the Bun rows: Bun.serve, bare or wrapped. Same env, routes and signals
// as node-server.mjs. `bare` is Bun's own server.stop() on SIGTERM; `quiesce` is serveBun
// (@quiesce/bun) under createLifecycle.
const variant = process.env.BENCH_VARIANT || 'bare';
const deadlineMs = Number(process.env.BENCH_DEADLINE_MS || 10_000);
const lameDuckMs = Number(process.env.QUIESCE_LAME_DUCK_MS || 0);
const body = 'hello world\n';

async function fetch(req) {
  if (req.url.includes('/slow')) {
    await Bun.sleep(Number(new URL(req.url).searchParams.get('ms') ?? 200));
  }
  return new Response(body, { headers: { 'content-type': 'text/plain' } });
}
const listen = { port: Number(process.env.PORT || 0), hostname: process.env.HOST || '127.0.0.1' };

let server;
switch (variant) {
  case 'bare':
    server = Bun.serve({ ...listen, fetch });
    // stop() without `true`: stop accepting, let in-flight requests finish, then resolve.
    process.once('SIGTERM', () => server.stop().then(() => process.exit(0)));
    break;
  case 'quiesce': {
    const { createLifecycle } = await import('quiesce');
    const { serveBun } = await import('@quiesce/bun');
    const adapter = serveBun({ ...listen, fetch });
    server = adapter.server;
    createLifecycle({ adapter, deadlineMs, lameDuckMs }).install();
    break;
  }
  default:
    console.error(`bun-server: unknown BENCH_VARIANT ${JSON.stringify(variant)}`);
    process.exit(2);
}

process.on('SIGUSR2', () => {
  Bun.gc(true);
  const { heapUsed, rss } = process.memoryUsage();
  console.log(`heap ${heapUsed} rss ${rss} connections -`);
});

console.log(`listening on http://${server.hostname}:${server.port}`);
