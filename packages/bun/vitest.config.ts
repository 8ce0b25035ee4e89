import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'bun',
    include: ['src/**/*.test.ts'],
    // Real Bun child processes and socket load: generous bounds for a noisy 2-core box.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Load tests share two cores badly with each other; files run one at a time.
    fileParallelism: false,
  },
});
