import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'drain', include: ['src/**/*.test.ts'] },
});
