/**
 * @module
 * `quiesce/listener`: listening sockets that survive restarts (`@quiesce/listener`, re-exported so
 * that one install is enough): `acquire()` binds or adopts systemd / `quiesce run` sockets and
 * explains EADDRINUSE, `hotRestart()` re-executes a Node server on SIGUSR2, `runSupervisor()` is
 * `quiesce run`, `createServiceNotifier()` tells systemd (sd_notify) and PM2 what the service does.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { AddressInUseError, acquire } from 'quiesce/listener';
 *
 * const server = createServer((req, res) => res.end('ok\n'));
 * try {
 *   console.log(`listening on ${(await acquire(server, { port: 3000 })).url}`);
 * } catch (error) {
 *   if (error instanceof AddressInUseError) console.error(error.message); // names the holder's pid
 *   process.exit(1);
 * }
 * ```
 */
export {
  type AcquiredListener,
  type AcquireOptions,
  AddressInUseError,
  CLI_USAGE,
  type CliIo,
  type DiagnosePortOptions,
  type GenerationInfo,
  HotRestartError,
  type HotRestartOptions,
  type HotRestartResult,
  type InheritedListener,
  type InheritedListenersOptions,
  InheritedSocketError,
  type ListenableServer,
  type ListenAddress,
  ListenerOptionError,
  type ListenTarget,
  PID_ONE_WARNING,
  type PidOneOptions,
  type PortDiagnosis,
  type PortHolder,
  type PortSocket,
  type ProcessState,
  type ReportReadyOptions,
  ReusePortUnsupportedError,
  type RollResult,
  type ServiceNotifier,
  type ServiceNotifierOptions,
  type ServiceNotifierTargets,
  type StopRequest,
  type StopRequestOptions,
  type Supervisor,
  SupervisorError,
  type SupervisorOptions,
  type SupervisorSocket,
  type TcpState,
  acquire,
  asAddressInUseError,
  createServiceNotifier,
  diagnosePort,
  formatPortDiagnosis,
  hotRestart,
  inheritedListeners,
  listenForStopRequests,
  reportReady,
  runCli,
  runSupervisor,
  warnIfPidOne,
} from '@quiesce/listener';
