import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'es2022',
  dts: true,
  clean: true,
  sourcemap: true,
  // Fastify is the application's own copy (a peer); the Quiesce packages stay separate modules.
  external: ['fastify', 'fastify-plugin', 'quiesce', /^quiesce\//, /^@quiesce\//],
});
