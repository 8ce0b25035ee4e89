// Idle keep-alive clients in a process of their own (idle-holder.mjs), for part 2. Held in the
// bench's own process, 1 000 sockets made the bench late to see the exit it measures: when the
// server exits, the kernel delivers 1 000 FINs to the bench before the child's exit, and reading
// them took the bench ~25 ms (Node's process.exit() "took" 40 ms, 15 ms measured this way). The
// holder is stopped (SIGSTOP) while a shutdown is timed, as remote clients would be: the kernel
// still answers for its sockets, and nothing of the client shares the server's two cores.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./idle-holder.mjs', import.meta.url));

/**
 * Opens `count` keep-alive connections to `port` (one request each) from a child process and
 * resolves once they are all open and idle (within `timeoutMs`; `batch` and `connectTimeoutMs` are
 * openIdleConnections' `batch` and `timeoutMs`). `pause()` stops the child; `report(timeoutMs)` resumes it and resolves with how the connections were closed,
 * `{ fin, reset, open, other }` (open: still open after `timeoutMs`); `kill()` is for cleanup.
 *
 * @example
 * const clients = await holdIdleConnections(server.port, 1_000);
 * clients.pause();
 * server.kill('SIGTERM');
 * await server.exited;
 * console.log(await clients.report(2_000)); // { fin: 1000, reset: 0, open: 0, other: 0 }
 */
export async function holdIdleConnections(port, count, { timeoutMs = 30_000, batch, connectTimeoutMs } = {}) {
  const extra = batch || connectTimeoutMs ? [String(batch ?? 100), String(connectTimeoutMs ?? 30_000)] : [];
  const child = fork(script, [String(port), String(count), ...extra], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const nextMessage = (ms, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`idle holder: no ${what} within ${ms} ms`));
      }, ms);
      child.once('message', (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`idle holder exited (${signal ?? code}) before its ${what}`));
      });
    });
  try {
    await nextMessage(timeoutMs, 'ready message');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pause: () => child.kill('SIGSTOP'),
    async report(ms) {
      child.kill('SIGCONT');
      const answer = nextMessage(ms + 5_000, 'report');
      child.send({ report: ms });
      return answer;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
    },
  };
}
