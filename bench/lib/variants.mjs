// The rows: every runtime's bare server and its graceful wrappers, Quiesce and the anchors, each run
// on every target (Node line, Bun, Deno) a run asks for. A part picks the ones it measures.
//
// Rows registry. Besides the built-in rows below, every module in bench/rows/*.mjs is loaded and its
// `rows` export (an array) added, so a new row (the HTTP/2 rows, say) lives in a file of its own:
//
//   // bench/rows/http2.mjs
//   export const rows = [{
//     runtime: 'node',                 // node | bun | deno; a node row runs on every Node line asked for
//     variant: 'h2-quiesce',           // unique within its runtime; the server script reads it as BENCH_VARIANT
//     name: 'quiesce, HTTP/2',         // the row's name after the target ("node22 quiesce, HTTP/2")
//     kind: 'quiesce',                 // quiesce | bare | anchor: a quiesce row is judged against the
//                                      //   bare and anchor rows of its target and protocol (its peers)
//     protocol: 'h2',                  // peers are rows of the same protocol (default 'http/1.1')
//     shutdown: 'createLifecycle',     // what it does on SIGTERM (a column)
//     parts: ['shutdown-latency', 'keep-alive-race'],  // result names of the parts that run it
//     script: new URL('../servers/node-h2-server.mjs', import.meta.url).pathname,  // default servers/<runtime>-server.mjs
//     env: { BENCH_H2: '1' },          // extra environment for the server (optional)
//     client: { ... },                 // how to talk to it where HTTP/1.1 does not do (optional, below)
//     pending: 'why',                  // printed instead of run (optional)
//   }];
//
// `client` replaces, for this row only, the HTTP/1.1 helpers a part uses (same signatures and
// results as the defaults named):
//   holdIdleConnections(port, count)   part 2 idle clients  (lib/idle-clients.mjs)
//   openConnection(port)               part 2 in-flight request (harness openConnection)
//   runKeepAliveLoad(options)          part 4 load           (harness runKeepAliveLoad)
// A built-in row runs in every part that measures its runtime (unless the part asks for
// `builtIn: false`, as a part whose servers are not the hello world would); an extra row only in its
// `parts`.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer } from './harness.mjs';
import { onTarget, selectTargets } from './targets.mjs';

const serverScript = (runtime) => fileURLToPath(new URL(`../servers/${runtime}-server.mjs`, import.meta.url));

/** The built-in rows, by runtime. `shutdown` names what the server does on SIGTERM. */
export const VARIANTS = Object.freeze({
  node: [
    { runtime: 'node', variant: 'bare', kind: 'bare', shutdown: 'server.close()' },
    { runtime: 'node', variant: 'quiesce', kind: 'quiesce', shutdown: 'createLifecycle' },
    { runtime: 'node', variant: 'http-terminator', kind: 'anchor', shutdown: 'terminate()' },
    { runtime: 'node', variant: 'terminus', kind: 'anchor', shutdown: 'createTerminus' },
    { runtime: 'node', variant: 'stoppable', kind: 'anchor', shutdown: 'server.stop()' },
  ],
  bun: [
    { runtime: 'bun', variant: 'bare', kind: 'bare', shutdown: 'server.stop()' },
    { runtime: 'bun', variant: 'quiesce', kind: 'quiesce', shutdown: 'createLifecycle' },
  ],
  deno: [
    { runtime: 'deno', variant: 'bare', kind: 'bare', shutdown: 'server.shutdown()' },
    { runtime: 'deno', variant: 'quiesce', kind: 'quiesce', shutdown: 'createLifecycle' },
  ],
});

/** Rows from bench/rows/*.mjs (see the top of this file), loaded once. */
async function loadExtraRows() {
  const dir = new URL('../rows/', import.meta.url);
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort();
  } catch {
    return [];
  }
  const rows = [];
  for (const file of files) {
    const module = await import(new URL(file, dir).href);
    if (!Array.isArray(module.rows)) throw new Error(`bench/rows/${file} must export \`rows\`, an array of rows (see bench/lib/variants.mjs).`);
    for (const row of module.rows) {
      for (const key of ['runtime', 'variant', 'kind']) {
        if (typeof row[key] !== 'string') throw new Error(`bench/rows/${file}: a row has no ${key} (string): ${JSON.stringify(row)}`);
      }
      if (!VARIANTS[row.runtime]) throw new Error(`bench/rows/${file}: runtime ${JSON.stringify(row.runtime)} is not node, bun or deno.`);
      if (!Array.isArray(row.parts)) throw new Error(`bench/rows/${file}: row ${row.variant} needs \`parts\`, the result names of the parts that run it.`);
      rows.push({ ...row, from: `bench/rows/${file}` });
    }
  }
  return rows;
}
export const EXTRA_ROWS = Object.freeze(await loadExtraRows());

/**
 * The rows of `part` (a result name such as 'shutdown-latency') on every target of `targets` (see
 * lib/targets.mjs): the built-in rows (unless `builtIn` is false) and the rows of bench/rows/*.mjs
 * that list `part`, optionally only the variants named in `only`. Each row gets its `target`, a
 * unique `key` (`node22-quiesce`), a `label` (`node22 quiesce`) and `on` (`node 22.23.5`).
 */
export function selectVariants(targets, { part, only, builtIn: withBuiltIn = true } = {}) {
  const out = [];
  for (const target of targets) {
    const builtIn = withBuiltIn ? (VARIANTS[target.runtime] ?? []) : [];
    const extra = EXTRA_ROWS.filter((r) => r.runtime === target.runtime && (part === undefined || r.parts.includes(part)));
    for (const v of [...builtIn, ...extra]) {
      if (only && !only.includes(v.variant)) continue;
      out.push({
        protocol: 'http/1.1',
        ...v,
        target,
        key: `${target.key}-${v.variant}`,
        label: `${target.label} ${v.name ?? v.variant}`,
        on: target.on,
      });
    }
  }
  return out;
}

/** Targets from a part's settings (`runtimes`, `lines`): see lib/targets.mjs. */
export function targetsOf(settings) {
  return selectTargets({ runtimes: settings.runtimes, lines: settings.lines });
}

/** Starts the server of one row as a child process on its target (harness `startServer`). */
export function startVariant(v, env = {}) {
  return onTarget(v.target, () =>
    startServer({
      runtime: v.runtime,
      script: v.script ?? serverScript(v.runtime),
      env: { BENCH_VARIANT: v.variant, ...(v.env ?? {}), ...env },
      timeoutMs: 30_000,
    }),
  );
}

/** The peers of a Quiesce row: the bare and anchor rows of its target and protocol. */
export function peersOf(v, rows) {
  return rows.filter((p) => p.target.key === v.target.key && p.protocol === v.protocol && (p.kind === 'bare' || p.kind === 'anchor') && !p.pending && !p.control);
}
