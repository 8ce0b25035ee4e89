// The WebSocket echo server of part 7, on Node, Bun or Deno (one file: the runtime is detected),
// bare or under Quiesce, chosen by BENCH_VARIANT. Env PORT, HOST, BENCH_DEADLINE_MS (10 000).
//   bare (Node): `ws` + on SIGTERM every client.close(1001) and server.close(), exit in its callback
//   bare (Bun): Bun.serve + on SIGTERM every ws.close(1001) (stop(false) waits for open WebSockets
//     forever, oven-sh/bun#34961) and await stop(false), then exit
//   bare (Deno): Deno.serve + on SIGTERM await server.shutdown() (which closes WebSockets with 1001
//     itself), then exit
//   quiesce: the runtime's adapter (createNodeAdapter with webSockets, serveBun, serveDeno +
//     upgradeWebSocket) under createLifecycle, defaults otherwise
// Prints `listening on http://HOST:PORT`.
const variant = process.env.BENCH_VARIANT || 'bare';
const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 0);
const deadlineMs = Number(process.env.BENCH_DEADLINE_MS || 10_000);
const plain = () => new Response('hello world\n');
const say = (actual) => console.log(`listening on http://${host}:${actual}`);

async function quiesce(adapter) {
  const { createLifecycle } = await import('quiesce');
  createLifecycle({ adapter, deadlineMs }).install();
}

if ('Bun' in globalThis) {
  const sockets = new Set();
  const options = {
    port,
    hostname: host,
    fetch: (request, server) => (server.upgrade(request) ? undefined : plain()),
    websocket: {
      open: (ws) => sockets.add(ws),
      message: (ws, message) => ws.send(message),
      close: (ws) => sockets.delete(ws),
    },
  };
  if (variant === 'quiesce') {
    const { serveBun } = await import('@quiesce/bun');
    const adapter = serveBun(options);
    await quiesce(adapter);
    say(adapter.server.port);
  } else {
    const server = Bun.serve(options);
    process.on('SIGTERM', async () => {
      for (const ws of sockets) ws.close(1001, 'going away');
      await server.stop(false);
      process.exit(0);
    });
    say(server.port);
  }
} else if ('Deno' in globalThis) {
  const listen = { port, hostname: host, onListen: (address) => say(address.port) };
  if (variant === 'quiesce') {
    const { serveDeno, upgradeWebSocket } = await import('@quiesce/deno');
    const handler = (request) => {
      if (request.headers.get('upgrade') !== 'websocket') return plain();
      const { socket, response } = upgradeWebSocket(request);
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    };
    await quiesce(serveDeno({ ...listen, handler }));
  } else {
    const server = Deno.serve(listen, (request) => {
      if (request.headers.get('upgrade') !== 'websocket') return plain();
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    });
    Deno.addSignalListener('SIGTERM', () => server.shutdown().then(() => Deno.exit(0)));
  }
} else {
  const { createServer } = await import('node:http');
  const { WebSocketServer } = await import('ws');
  const server = createServer((_req, res) => res.end('hello world\n'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  if (variant === 'quiesce') {
    const { createNodeAdapter } = await import('quiesce/node');
    await quiesce(createNodeAdapter(server, { webSockets: wss }));
  } else {
    process.on('SIGTERM', () => {
      for (const ws of wss.clients) ws.close(1001, 'going away');
      server.close(() => process.exit(0));
    });
  }
  server.listen(port, host, () => say(server.address().port));
}
