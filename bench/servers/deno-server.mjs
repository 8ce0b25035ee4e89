// The hello-world server of the Deno rows: Deno.serve, bare or wrapped. Same env, routes and signals
// as node-server.mjs. `bare` is Deno's own server.shutdown() on SIGTERM; `quiesce` is serveDeno
// (@quiesce/deno) under createLifecycle.
const variant = Deno.env.get('BENCH_VARIANT') || 'bare';
const deadlineMs = Number(Deno.env.get('BENCH_DEADLINE_MS') || 10_000);
const lameDuckMs = Number(Deno.env.get('QUIESCE_LAME_DUCK_MS') || 0);
const body = 'hello world\n';
const host = Deno.env.get('HOST') || '127.0.0.1';

async function handler(req) {
  if (req.url.includes('/slow')) {
    await new Promise((resolve) => setTimeout(resolve, Number(new URL(req.url).searchParams.get('ms') ?? 200)));
  }
  return new Response(body, { headers: { 'content-type': 'text/plain' } });
}
const listen = {
  port: Number(Deno.env.get('PORT') || 0),
  hostname: host,
  onListen: ({ port }) => console.log(`listening on http://${host}:${port}`),
};

switch (variant) {
  case 'bare': {
    const server = Deno.serve(listen, handler);
    Deno.addSignalListener('SIGTERM', () => server.shutdown().then(() => Deno.exit(0)));
    break;
  }
  case 'quiesce': {
    const { createLifecycle } = await import('quiesce');
    const { serveDeno } = await import('@quiesce/deno');
    createLifecycle({ adapter: serveDeno({ ...listen, handler }), deadlineMs, lameDuckMs }).install();
    break;
  }
  default:
    console.error(`deno-server: unknown BENCH_VARIANT ${JSON.stringify(variant)}`);
    Deno.exit(2);
}

Deno.addSignalListener('SIGUSR2', () => {
  // gc() needs DENO_V8_FLAGS=--expose-gc.
  globalThis.gc?.();
  globalThis.gc?.();
  const { heapUsed, rss } = Deno.memoryUsage();
  console.log(`heap ${heapUsed} rss ${rss} connections -`);
});
