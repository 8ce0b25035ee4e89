/**
 * @module
 * What every package's tests share to test from outside, for real: child processes on a runtime
 * (Node, any Node line installed under `node_modules`, Bun, Deno) with their output line by line,
 * server children that print their URL, what each runtime can do at the version under test
 * (`capabilities()`), a real etcd and a recording Consul agent, a real OTLP/HTTP receiver, loopback
 * TCP tools and Linux process-tree helpers. Test-only and private: vitest imports this TypeScript source directly.
 *
 * The runtime under test is a parameter: `QUIESCE_TEST_NODE=24` runs every Node child on
 * `node_modules/node24/bin/node`, and `QUIESCE_TEST_RUNTIMES=node` narrows the runtimes suites
 * iterate over (`npm run test:node-lines` sets both).
 *
 * @example
 * ```ts
 * import { afterEach, expect, it } from 'vitest';
 * import { capabilities, killAllChildren, runtimeCommand, runtimesUnderTest, startChild } from '@quiesce/test-support';
 *
 * afterEach(() => killAllChildren());
 *
 * for (const runtime of runtimesUnderTest()) {
 *   it(`exits 0 after SIGTERM on ${runtime}`, async () => {
 *     const child = startChild(runtimeCommand(runtime, '/path/to/server.mjs'));
 *     await child.waitForLine(/^ready/);
 *     child.kill('SIGTERM');
 *     expect(await child.waitForExit()).toMatchObject({ code: 0, signal: null });
 *     if (capabilities(runtime).reportsSocketCounts) expect(child.stdout.join('\n')).toMatch(/idle-closed/);
 *   });
 * }
 * ```
 */
export { assertBuilt } from './built.ts';
export { capabilities, nodeCapabilities, type RuntimeCapabilities } from './capabilities.ts';
export { type Child, type ChildExit, killAllChildren, type StartChildOptions, startChild } from './child.ts';
export { type RecordedRequest, FakeConsulAgent } from './consul-agent.ts';
export { HarnessOptionError, LineTimeoutError, RuntimeMissingError, ServerStartError } from './errors.ts';
export {
  authenticate,
  enableAuth,
  type EtcdKey,
  etcdPost,
  getKey,
  keysWithPrefix,
  leaseTimeToLive,
  revokeLease,
  waitFor,
} from './etcd-api.ts';
export { assertEtcdInstalled, ETCD_BIN, type EtcdServer, startEtcd } from './etcd-server.ts';
export { fixturesBeside } from './fixtures.ts';
export {
  closedPort,
  freePort,
  get,
  type HungServer,
  listeningSocket,
  type ProxyMode,
  sleep,
  startHungServer,
  startProxy,
  type TcpProxy,
  until,
} from './net.ts';
export {
  type OtlpAttributes,
  type OtlpReceiver,
  type OtlpReceiverOptions,
  type OtlpValue,
  type ReceivedMetric,
  type ReceivedPoint,
  type ReceivedRequest,
  type ReceivedSpan,
  startOtlpReceiver,
} from './otlp-receiver.ts';
export { type PortHolder, type PortHolderOptions, startPortHolder } from './port-holder.ts';
export { childPids, killTree, LISTEN_PID_WRAPPER, processState } from './processes.ts';
export {
  isUnderTest,
  NODE_UNDER_TEST_VARIABLE,
  type NodeUnderTest,
  nodeLineBinary,
  nodeUnderTest,
  RUNTIMES,
  RUNTIMES_UNDER_TEST_VARIABLE,
  type Runtime,
  type RuntimeCommand,
  type RuntimeCommandOptions,
  repoRoot,
  runtimeBinary,
  runtimeCommand,
  runtimesUnderTest,
  runtimeVersion,
} from './runtimes.ts';
export { type ServerExit, type ServerHandle, type StartServerOptions, startServer } from './server.ts';
export { checkArgs, checkDuration, checkEnv, checkInteger, checkPort, checkString } from './validate.ts';
