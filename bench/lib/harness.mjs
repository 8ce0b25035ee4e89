// The conformance harness (packages/conformance/src/harness) and the test-support package that starts
// its child servers (packages/test-support), reused as they are: raw HTTP/1.1 with FIN and RST
// visible, bounded keep-alive load with ok / refused / ambiguous accounting, child servers.
import { register } from 'node:module';

if (!process.versions.bun && !process.versions.deno) register('./ts-hooks.mjs', import.meta.url);

export const { assertClientKeptUp, openConnection, runFreshConnectionLoad, runKeepAliveLoad } = await import(
  '../../packages/conformance/src/harness/index.ts'
);
const support = await import('../../packages/test-support/src/index.ts');
export const { runtimeBinary, runtimeCommand, startServer } = support;
/** SIGKILLs every server the bench started (and their children) and waits for them. */
export const killAllServers = () => support.killAllChildren();
