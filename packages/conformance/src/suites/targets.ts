import { join } from 'node:path';
import { type Runtime, repoRoot } from '../harness/index.ts';

/** One way to run the example server: the runtime and the script it runs. */
export interface ExampleTarget {
  readonly runtime: Runtime;
  readonly script: string;
}

/**
 * The example server on every runtime the suite covers. Node runs the build (`node
 * apps/example/dist/server.js`); Bun and Deno run the same source directly.
 */
export const exampleTargets: readonly ExampleTarget[] = [
  { runtime: 'node', script: join(repoRoot(), 'apps/example/dist/server.js') },
  { runtime: 'bun', script: join(repoRoot(), 'apps/example/src/server.ts') },
  { runtime: 'deno', script: join(repoRoot(), 'apps/example/src/server.ts') },
];

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
