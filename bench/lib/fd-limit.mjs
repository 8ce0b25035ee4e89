// 10 000 connections need more than the usual 1 024 file descriptors, in the bench and in the server.
import { execFileSync, spawnSync } from 'node:child_process';

function shell(script) {
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' }).trim();
}

/** The soft and hard `ulimit -n` this process has (children inherit them). */
export function fdLimits() {
  const parse = (v) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: parse(shell('ulimit -n')), hard: parse(shell('ulimit -Hn')) };
}

/**
 * Makes sure this process (and the servers it spawns) may open `needed` descriptors. Node cannot
 * raise its own limit, so when the soft limit is too low the script re-runs itself under
 * `sh -c 'ulimit -n …; exec node …'`: 65 536 if root may raise the hard limit, else the hard limit.
 * Returns the limits in effect; the caller scales down and says so if they are still too low.
 */
export function ensureFdLimit(needed) {
  const limits = fdLimits();
  if (limits.soft >= needed || process.env.QUIESCE_BENCH_FD_RAISED) return limits;
  const script = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"';
  const result = spawnSync('sh', ['-c', script, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, QUIESCE_BENCH_FD_RAISED: '1' },
  });
  process.exit(result.status ?? 1);
}
