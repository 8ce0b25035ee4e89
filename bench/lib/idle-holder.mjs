// Child process of `holdIdleConnections` (idle-clients.mjs): opens the idle keep-alive connections
// of part 2 (one request each), says `{ ready }` over IPC, then sits idle. The parent stops it with
// SIGSTOP while it measures a shutdown and resumes it with SIGCONT; `{ report: timeoutMs }` then asks
// how each connection was closed, answered with `{ fin, reset, other, open }` before it exits.
// Argv: <port> <count> [<batch> <timeoutMs>] (openIdleConnections' options; its defaults when left out).
import { openIdleConnections } from './open-idle.mjs';

const [port, count, batch, timeoutMs] = process.argv.slice(2).map(Number);
const optional = (n) => n === undefined || Number.isNaN(n) || (Number.isInteger(n) && n > 0);
if (!Number.isInteger(port) || !Number.isInteger(count) || count < 1 || !optional(batch) || !optional(timeoutMs)) {
  console.error(`usage: idle-holder.mjs <port> <count> [<batch> <timeoutMs>], got ${JSON.stringify(process.argv.slice(2))}`);
  process.exit(2);
}

const connections = await openIdleConnections(port, count, {
  ...(Number.isInteger(batch) ? { batch } : {}),
  ...(Number.isInteger(timeoutMs) ? { timeoutMs } : {}),
});
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
