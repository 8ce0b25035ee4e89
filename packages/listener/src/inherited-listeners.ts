import { type EnvOptions, listenEnvFrom } from './internal/env-options.ts';

/** A listening socket this process inherited by the systemd protocol. */
export interface InheritedListener {
  /** The file descriptor: 3 for the first, 4 for the second … */
  readonly fd: number;
  /** Its name from LISTEN_FDNAMES (systemd's `FileDescriptorName=`, `quiesce run --listen name=…`), else `unknown`. */
  readonly name: string;
}

/** Options for {@link inheritedListeners}. */
export interface InheritedListenersOptions {
  /** Where the variables are read from and removed. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The pid LISTEN_PID must equal. Default `process.pid`. */
  pid?: number;
  /** Where the one-line warning about ignored variables goes. Default `console.warn`; `false` for silence. */
  warn?: ((line: string) => void) | false;
}

/**
 * The sockets passed to this process by the systemd protocol (sd_listen_fds(3)): LISTEN_FDS sockets
 * from fd 3, valid only when LISTEN_PID equals this pid, named by LISTEN_FDNAMES. The variables (and
 * Quiesce's QUIESCE_READY_FD / QUIESCE_SUPERVISOR_PID) are removed from `env` on the first call, so
 * children of this process never inherit them; later calls return the same list. Garbage or
 * mismatched values (another pid, a count that is not a number, an fd that is not an open socket)
 * are ignored with one warning line and give an empty list; they are never trusted. For runtimes
 * whose own server cannot take an fd, this is what an adapter reads to choose the `node:net` path.
 * Throws {@link ListenerOptionError} on bad options.
 *
 * @example
 * ```ts
 * const [first] = inheritedListeners(); // { fd: 3, name: 'http' } under `quiesce run` or systemd
 * if (first) server.listen({ fd: first.fd });
 * else server.listen(3000);
 * ```
 */
export function inheritedListeners(options: InheritedListenersOptions = {}): readonly InheritedListener[] {
  return listenEnvFrom(options as EnvOptions).listeners;
}
