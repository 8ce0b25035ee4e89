// Anchor for restarts.mjs: what most Node servers do without Quiesce. A plain node:http server bound
// with listen() on PORT (127.0.0.1); on SIGTERM it calls server.close() and exits once it is closed.
// On Node ≥ 19 server.close() also closes idle keep-alive sockets at once; busy ones end after their
// response. A restart is SIGTERM, wait for the exit, start again on the same port: connections made
// in between are refused, and a request written on a keep-alive socket as it is closed is lost.
// Routes: any path -> 200 "pid N" with x-pid.
import { createServer } from 'node:http';

const server = createServer((_req, res) => {
  const body = `pid ${process.pid}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-pid': String(process.pid) });
  res.end(body);
});

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`naive node pid ${process.pid} listening on http://127.0.0.1:${port}`);
});
