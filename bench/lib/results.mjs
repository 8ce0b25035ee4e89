// Result files: bench/results/<name>.json, one per part, with the environment and the printed table.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { environment } from './environment.mjs';

import { pathToFileURL } from 'node:url';

/** bench/results/, or the directory in QUIESCE_BENCH_RESULTS (for CI smoke runs that must not touch the tree). */
export const resultsDir = process.env.QUIESCE_BENCH_RESULTS
  ? pathToFileURL(`${process.env.QUIESCE_BENCH_RESULTS.replace(/\/$/, '')}/`)
  : new URL('../results/', import.meta.url);

/**
 * Writes <results>/<name>.json for a full run, <results>/<name>.<mode>.json for a smoke or custom one
 * (so that trying a setting never replaces the full result the README shows), and returns its path.
 * What report.mjs renders comes from the file alone, so a new part needs no change there:
 * `title` (the section heading), `part` (its number, for ordering), `targets` (what its rows ran
 * on: `{ key, on }`), `columns` + `rows` (the table; a row's `on` says its runtime and line),
 * `notes`, `goals` (lib/goals.mjs records) and `chart` (lib/svg-chart.mjs).
 */
export function writeResult(name, { mode, settings, columns, rows, notes = [], raw, title, part, targets, goals = [], chart }) {
  mkdirSync(resultsDir, { recursive: true });
  const url = new URL(mode === 'full' ? `${name}.json` : `${name}.${mode}.json`, resultsDir);
  const document = {
    name,
    title,
    part,
    mode,
    ...environment(),
    targets: targets?.map(({ key, runtime, line, version, on }) => ({ key, runtime, line, version, on })),
    settings,
    columns,
    rows,
    notes,
    goals,
    chart,
    raw,
  };
  writeFileSync(url, `${JSON.stringify(document, null, 2)}\n`);
  return url.pathname;
}

/** Every result file of `mode` ('full': <name>.json; else <name>.<mode>.json), ordered by name. */
export function readResults(mode = 'full') {
  const suffix = mode === 'full' ? '.json' : `.${mode}.json`;
  let files = [];
  try {
    files = readdirSync(resultsDir)
      .filter((f) => f.endsWith(suffix) && !f.slice(0, -suffix.length).includes('.'))
      .sort();
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(new URL(f, resultsDir), 'utf8')));
}
