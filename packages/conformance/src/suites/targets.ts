import { join } from 'node:path';
import { isUnderTest, repoRoot, type Runtime, runtimeVersion } from '@quiesce/test-support';

/** One way to run the example server: the runtime and the script it runs. */
export interface ExampleTarget {
  readonly runtime: Runtime;
  /** The runtime and its version, for test names: `node 22.23.5`. */
  readonly label: string;
  readonly script: string;
}

const target = (runtime: Runtime, script: string): ExampleTarget => ({ runtime, label: `${runtime} ${runtimeVersion(runtime)}`, script });

/**
 * The example server on every runtime under test (all, unless QUIESCE_TEST_RUNTIMES narrows them).
 * Node (the Node under test: QUIESCE_TEST_NODE) runs the build (`node apps/example/dist/server.js`);
 * Bun and Deno run the same source directly.
 */
export const exampleTargets: readonly ExampleTarget[] = (['node', 'bun', 'deno'] as const)
  .filter((runtime) => isUnderTest(runtime))
  .map((runtime) => target(runtime, join(repoRoot(), runtime === 'node' ? 'apps/example/dist/server.js' : 'apps/example/src/server.ts')));
