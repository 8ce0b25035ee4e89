/**
 * @module
 * Listening sockets that survive restarts. `acquire()` makes a server listen on a socket inherited
 * by the systemd protocol (LISTEN_FDS) or binds one, and explains EADDRINUSE with the holder's pid,
 * command line and the port's TCP states read from /proc. `hotRestart()` re-executes a Node process
 * with its listening sockets on SIGUSR2 and stops the old one only once the new one is ready.
 * `runSupervisor()` (`quiesce run`) holds the sockets itself and rolls generations of any command on
 * Node, Bun or Deno without refusing a connection. Only `node:` modules that Bun and Deno implement.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { AddressInUseError, acquire } from '@quiesce/listener';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * try {
 *   const listener = await acquire(server, { port: 3000, host: '127.0.0.1' });
 *   console.log(`listening on ${listener.url}`);
 * } catch (error) {
 *   if (!(error instanceof AddressInUseError)) throw error;
 *   console.error(error.message); // "Cannot listen on 127.0.0.1:3000: address already in use. Held by pid 4242 (node server.js) in LISTEN. …"
 *   process.exit(1);
 * }
 * ```
 */
export { type AcquiredListener, type AcquireOptions, type ListenableServer, acquire } from './acquire.ts';
export { type ListenTarget, asAddressInUseError } from './as-address-in-use-error.ts';
export {
  AddressInUseError,
  HotRestartError,
  InheritedSocketError,
  ListenerOptionError,
  ReusePortUnsupportedError,
  SupervisorError,
} from './errors.ts';
export { type HotRestartOptions, type HotRestartResult, hotRestart } from './hot-restart.ts';
export { type InheritedListener, type InheritedListenersOptions, inheritedListeners } from './inherited-listeners.ts';
export {
  type DiagnosePortOptions,
  type PortDiagnosis,
  type PortHolder,
  type PortSocket,
  type ProcessState,
  diagnosePort,
  formatPortDiagnosis,
} from './port-diagnosis.ts';
export { PID_ONE_WARNING, type PidOneOptions, warnIfPidOne } from './pid-one.ts';
export { type ReportReadyOptions, reportReady } from './readiness.ts';
export {
  type ServiceNotifier,
  type ServiceNotifierOptions,
  type ServiceNotifierTargets,
  createServiceNotifier,
} from './service-notifier.ts';
export { type StopRequest, type StopRequestOptions, listenForStopRequests } from './stop-requests.ts';
export type { TcpState } from './tcp-state.ts';
export { CLI_USAGE, type CliIo, runCli } from './cli.ts';
export {
  type GenerationInfo,
  type ListenAddress,
  type RollResult,
  type Supervisor,
  type SupervisorOptions,
  type SupervisorSocket,
  runSupervisor,
} from './supervisor.ts';
