// Module hooks that let Node 20 (no type stripping) import the conformance harness from its .ts
// sources: esbuild (already in the tree through tsup) strips the types, nothing else changes.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

let esbuild;

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  esbuild ??= await import('esbuild');
  const path = fileURLToPath(url);
  const { code } = await esbuild.transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: path,
    sourcemap: 'inline',
  });
  return { format: 'module', source: code, shortCircuit: true };
}
