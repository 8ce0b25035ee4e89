// The benchmark's server on the Quiesce lifecycle (Node), wired as apps/example is: the lifecycle's
// signal policy with a hotRestart() restart handler, then acquire(). Routes: any path -> 200 "pid N".
import { createServer } from 'node:http';
import { createLifecycle } from 'quiesce';
import { createNodeAdapter } from 'quiesce/node';
import { acquire, hotRestart } from '@quiesce/listener';

const server = createServer((_req, res) => {
  const body = `pid ${process.pid}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-pid': String(process.pid) });
  res.end(body);
});
const lifecycle = createLifecycle({
  adapter: createNodeAdapter(server),
  signals: { restart: () => hotRestart({ servers: server, stop: () => lifecycle.shutdown('restart') }) },
});
lifecycle.install();
const listener = await acquire(server, { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`app node pid ${process.pid} listening on ${listener.url} (${listener.source})`);
