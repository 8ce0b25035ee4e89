// What a result was measured on: date, machine, load, runtime and library versions, commit.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { runtimeBinary } from './harness.mjs';

const require = createRequire(import.meta.url);
// Read at import, before a benchmark pins itself to one CPU (part 1), which would make this 1.
const CORES = availableParallelism();

function tryRun(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
}

function packageVersion(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return undefined;
  }
}

let cached;

/** Versions of Node, Bun and Deno as the benchmarks run them, and of the anchors. */
export function environment() {
  if (cached) return cached;
  const binary = (runtime) => {
    try {
      return runtimeBinary(runtime);
    } catch {
      return undefined;
    }
  };
  const bun = binary('bun');
  const deno = binary('deno');
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  const commit = tryRun('git', ['-C', new URL('..', import.meta.url).pathname, 'rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['-C', new URL('..', import.meta.url).pathname, 'status', '--porcelain', '--', '../packages/drain', '../packages/node', '../packages/quiesce']);
  cached = {
    date: new Date().toISOString(),
    machine: {
      cores: CORES,
      cpu: cpuModel,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      loadAverageAtStart: loadavg().map((n) => Math.round(n * 100) / 100),
    },
    versions: {
      node: process.versions.node,
      bun: bun ? tryRun(bun, ['--version']) : undefined,
      deno: deno ? tryRun(deno, ['--version'])?.split('\n')[0]?.replace(/^deno (\S+).*/, '$1') : undefined,
      haproxy: tryRun('haproxy', ['-v'])?.split('\n')[0]?.replace(/^HAProxy version (\S+).*/, '$1'),
      'http-terminator': packageVersion('http-terminator'),
      '@godaddy/terminus': packageVersion('@godaddy/terminus'),
      stoppable: packageVersion('stoppable'),
      autocannon: packageVersion('autocannon'),
    },
    commit: commit ? `${commit}${dirty ? '+local-changes' : ''}` : undefined,
  };
  return cached;
}

/** One line for the top of a printed table. */
export function describeEnvironment(env = environment()) {
  const v = env.versions;
  return (
    `${env.date.slice(0, 16).replace('T', ' ')} UTC, ${env.machine.cores} cores (${env.machine.cpu}), ` +
    `load ${env.machine.loadAverageAtStart.join(' ')}; node ${v.node}, bun ${v.bun ?? '-'}, deno ${v.deno ?? '-'}` +
    (env.commit ? `; commit ${env.commit}` : '')
  );
}
