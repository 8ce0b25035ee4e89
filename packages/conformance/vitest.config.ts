import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'conformance',
    include: ['src/**/*.test.ts'],
    // Real child processes and socket load: generous bounds for a noisy 2-core box.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Socket-load tests share two cores badly with each other; files run one at a time.
    fileParallelism: false,
  },
});
