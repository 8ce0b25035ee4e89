import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'registry',
    include: ['src/**/*.test.ts'],
    // Each etcd suite starts a real etcd and some start real child servers: room for a loaded 2-core box.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
