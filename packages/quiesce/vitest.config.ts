import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'quiesce', include: ['src/**/*.test.ts'] },
});
