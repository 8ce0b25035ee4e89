import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'opentelemetry', include: ['src/**/*.test.ts'] },
});
