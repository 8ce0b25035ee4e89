import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'doc-tests',
    include: ['src/**/*.test.ts'],
    // Real child processes on Node, Bun and Deno on a shared 2-core box: generous bounds.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Snippet runs of one file go two at a time (describe.concurrent); files one after another.
    maxConcurrency: 2,
    fileParallelism: false,
  },
});
