// Child process of `holdIdleConnections` (idle-clients.mjs): opens the idle keep-alive connections
// of part 2 (one request each), says `{ ready }` over IPC, then sits idle. The parent stops it with
// SIGSTOP while it measures a shutdown and resumes it with SIGCONT; `{ report: timeoutMs }` then asks
// how each connection was closed, answered with `{ fin, reset, other, open }` before it exits.
// Argv: <port> <count>.
import { openIdleConnections } from './open-idle.mjs';

const [port, count] = process.argv.slice(2).map(Number);
if (!Number.isInteger(port) || !Number.isInteger(count) || count < 1) {
  console.error(`usage: idle-holder.mjs <port> <count>, got ${JSON.stringify(process.argv.slice(2))}`);
  process.exit(2);
}

const connections = await openIdleConnections(port, count);
process.send({ ready: connections.length });

process.on('message', async (message) => {
  if (typeof message?.report !== 'number') return;
  const how = await Promise.all(connections.map((c) => c.waitForClose(message.report)));
  for (const c of connections) c.destroy();
  const fin = how.filter((h) => h === 'fin').length;
  const reset = how.filter((h) => h === 'reset').length;
  const open = how.filter((h) => h === 'timeout').length;
  process.send({ fin, reset, open, other: how.length - fin - reset - open }, () => process.exit(0));
});
