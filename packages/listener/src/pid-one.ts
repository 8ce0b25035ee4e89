import process from 'node:process';
import { ListenerOptionError } from './errors.ts';
import { checkLog, checkPid } from './internal/validate.ts';

/** Options for {@link warnIfPidOne}. */
export interface PidOneOptions {
  /** The pid to judge. Default `process.pid`. */
  pid?: number;
  /** Where the warning goes. Default `console.warn`; `false` for silence. */
  log?: ((line: string) => void) | false;
}

/** The warning {@link warnIfPidOne} logs, one line. */
export const PID_ONE_WARNING: string =
  'quiesce: this process is PID 1 (a container started without an init). The kernel gives PID 1 no default signal actions, so a signal it has no handler for does nothing (Ctrl-C, SIGQUIT, a stop signal the app does not catch), and orphaned grandchildren are reparented to it and never reaped: they stay zombies. Run it under an init: `docker run --init`, tini (`ENTRYPOINT ["tini", "--"]`), or in Kubernetes `shareProcessNamespace: true` so the pause container reaps.';

let warned = false;

/**
 * Warns, once per process, when it runs as PID 1: what a container without an init costs (no
 * default signal actions, orphans never reaped) and what to do (`--init`, tini,
 * `shareProcessNamespace`). The lifecycle and `quiesce run` call it when they start. Returns whether
 * it warned now. Throws {@link ListenerOptionError} on bad options.
 *
 * @example
 * ```ts
 * warnIfPidOne(); // logs PID_ONE_WARNING when process.pid === 1
 * ```
 */
export function warnIfPidOne(options: PidOneOptions = {}): boolean {
  if (options === null || typeof options !== 'object') throw new ListenerOptionError('options', options, 'an object');
  const { pid = process.pid, log = (line: string) => console.warn(line) } = options;
  checkPid('pid', pid);
  checkLog('log', log);
  if (pid !== 1 || warned) return false;
  warned = true;
  if (log !== false) log(PID_ONE_WARNING);
  return true;
}
