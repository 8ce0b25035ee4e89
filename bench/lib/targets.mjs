// What a row runs on: a Node line (20, 22, 24, 26), Bun or Deno. The Node lines are the same as the
// test matrix's (.ci/node-lines.mjs): the Node running the bench, plus every `nodeNN` optional
// dependency of the root package.json, installed at node_modules/nodeNN/bin/node (Linux x64 only).
// Servers run on the target; the clients (load, idle sockets) stay on the Node running the bench, as
// the conformance suite does, so that every line is measured with the same instrument.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The variable the test-support package reads to pick the Node a child runs on (`runtimeBinary('node')`). */
const NODE_VARIABLE = 'QUIESCE_TEST_NODE';

const major = (version) => Number(version.split('.')[0]);

function versionOf(binary) {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '';
  return /(\d+\.\d+\.\d+)/.exec(out)?.[1];
}

let cachedLines;

/**
 * Every Node line this machine can run, lowest first: `{ line, binary, version, installed }`. The
 * Node running the bench is its own major's line; the others come from package.json's
 * `optionalDependencies` named `nodeNN` (`installed: false` when npm skipped them: not Linux x64).
 */
export function nodeLines() {
  if (cachedLines) return cachedLines;
  const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const own = { line: major(process.versions.node), binary: process.execPath, version: process.versions.node, installed: true };
  const lines = [own];
  for (const name of Object.keys(manifest.optionalDependencies ?? {})) {
    const line = Number(/^node(\d+)$/.exec(name)?.[1]);
    if (!line || line === own.line) continue;
    const binary = `${root}node_modules/${name}/bin/node`;
    const installed = existsSync(binary);
    lines.push({ line, binary, version: installed ? versionOf(binary) : undefined, installed });
  }
  cachedLines = lines.sort((a, b) => a.line - b.line);
  return cachedLines;
}

/**
 * The Node lines a `--lines` value asks for: `all` (every installed line), `default` (the Node
 * running the bench), or majors such as `20,24`. Throws, naming the value, on a line that is not
 * in the matrix or not installed here.
 */
export function resolveLines(value) {
  const all = nodeLines();
  const list = Array.isArray(value) ? value.map(String) : String(value).split(',');
  if (list.length === 1 && list[0] === 'all') return all.filter((l) => l.installed);
  if (list.length === 1 && list[0] === 'default') return [all.find((l) => l.binary === process.execPath)];
  return list.map((raw) => {
    const line = Number(/^(?:node)?(\d+)$/.exec(raw.trim())?.[1]);
    const found = all.find((l) => l.line === line);
    if (!found) {
      throw new Error(`--lines: ${JSON.stringify(raw)} is not a Node line here; use all, default or some of ${all.map((l) => l.line).join(', ')}.`);
    }
    if (!found.installed) throw new Error(`--lines: node${line} is not installed (node_modules/node${line} is Linux x64 only); run npm install on Linux x64.`);
    return found;
  });
}

/**
 * The targets of a run: one per Node line asked for (when `runtimes` has `node`), then Bun and
 * Deno. `key` is unique (`node22`, `bun`), `label` starts the rows' names, `on` is what the tables
 * print in their "runs on" column.
 */
export function selectTargets({ runtimes = ['node', 'bun', 'deno'], lines = 'all' } = {}) {
  const targets = [];
  for (const runtime of runtimes) {
    if (runtime === 'node') {
      for (const l of resolveLines(lines)) {
        targets.push({ key: `node${l.line}`, runtime, line: l.line, binary: l.binary, version: l.version, label: `node${l.line}`, on: `node ${l.version}` });
      }
    } else if (runtime === 'bun' || runtime === 'deno') {
      const binary = `${root}${runtime === 'bun' ? 'node_modules/bun/bin/bun.exe' : 'node_modules/deno/deno'}`;
      const version = existsSync(binary) ? versionOf(binary) : undefined;
      targets.push({ key: runtime, runtime, binary, version, label: runtime, on: `${runtime} ${version ?? '(not installed)'}` });
    } else {
      throw new Error(`--runtimes: unknown runtime ${JSON.stringify(runtime)}; use node, bun or deno.`);
    }
  }
  return targets;
}

/**
 * Runs `start` (which spawns a server through the test-support package, synchronously picking its
 * binary) with the Node of `target` chosen. Bun and Deno targets run it as it is.
 */
export function onTarget(target, start) {
  if (target.runtime !== 'node') return start();
  const before = process.env[NODE_VARIABLE];
  process.env[NODE_VARIABLE] = target.binary;
  try {
    return start();
  } finally {
    if (before === undefined) delete process.env[NODE_VARIABLE];
    else process.env[NODE_VARIABLE] = before;
  }
}
