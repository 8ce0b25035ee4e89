import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  // node: modules only, and only those Bun and Deno implement too (net, fs, child_process, os, path,
  // worker_threads); no runtime-specific global is used.
  platform: 'node',
  target: 'es2022',
  dts: true,
  clean: true,
  sourcemap: true,
});
