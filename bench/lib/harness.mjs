// The conformance harness (packages/conformance/src/harness), reused as is: raw HTTP/1.1 with FIN
// and RST visible, bounded keep-alive load with ok / refused / ambiguous accounting, child servers.
import { register } from 'node:module';

if (!process.versions.bun && !process.versions.deno) register('./ts-hooks.mjs', import.meta.url);

export const {
  killAllServers,
  openConnection,
  runFreshConnectionLoad,
  runKeepAliveLoad,
  runtimeBinary,
  runtimeCommand,
  startServer,
} = await import('../../packages/conformance/src/harness/index.ts');
