import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeBlock } from './markdown-blocks.ts';
import { type Marker, MarkerError, parseMarker } from './marker.ts';
import { RUNTIMES, type Runtime, type WorkspacePackage, repoRoot } from './workspace.ts';

/** How a process must end: an exit code, or killed by a signal (a program that installs no handler). */
export type ExitExpectation = { readonly code: number } | { readonly signal: NodeJS.Signals };

/** What a run or a command line is driven through and must show. */
export interface Drive {
  /** The port literal in the code, replaced by a free port; the process is up once it accepts. */
  readonly port: number | undefined;
  /** A line of output that says the process is up (with `port`: both). */
  readonly ready: RegExp | undefined;
  /** A GET sent once it is up, and what it must answer. */
  readonly get: string | undefined;
  readonly status: number | undefined;
  readonly body: RegExp | undefined;
  /** Signals sent once it is up (after the request); each later one once a new line of output appeared. */
  readonly signals: readonly NodeJS.Signals[];
  readonly exit: ExitExpectation;
  readonly stdout: RegExp | undefined;
  readonly stderr: RegExp | undefined;
  readonly timeoutMs: number;
}

/** One way to run a `run` block (one marker). */
export interface RunScenario extends Drive {
  readonly runtimes: readonly Runtime[];
  /** Deno's permission flags: exactly these, with `--no-prompt`. */
  readonly denoFlags: readonly string[];
  /** Another socket holds the port first (the snippet's EADDRINUSE path). */
  readonly holdPort: boolean;
  /** A URL in the code replaced by a real etcd's. */
  readonly etcd: string | undefined;
  readonly markerLine: number;
}

/** An `output` block: what a run prints. */
export interface OutputExpectation {
  readonly block: CodeBlock;
  readonly runtime: Runtime;
  readonly varyNumbers: boolean;
}

export type Language = 'ts' | 'js';

/** What the harness does with one code block. */
export type Plan =
  | { readonly kind: 'run'; readonly block: CodeBlock; readonly language: Language; readonly scenarios: readonly RunScenario[]; readonly outputs: OutputExpectation[] }
  | { readonly kind: 'check'; readonly block: CodeBlock; readonly language: Language; readonly reason: string; readonly base: string | undefined }
  | { readonly kind: 'fragment'; readonly block: CodeBlock; readonly language: Language; readonly context: string | undefined; readonly base: string | undefined }
  | { readonly kind: 'install'; readonly block: CodeBlock; readonly packages: readonly string[] }
  | { readonly kind: 'illustrative'; readonly block: CodeBlock; readonly reason: string }
  | { readonly kind: 'commands'; readonly block: CodeBlock; readonly drive: Drive; readonly withFile: { readonly name: string; readonly from: Plan & { kind: 'run' } } | undefined }
  | { readonly kind: 'checked-by'; readonly block: CodeBlock; readonly file: string; readonly id: string }
  | { readonly kind: 'output'; readonly block: CodeBlock }
  | { readonly kind: 'invalid'; readonly block: CodeBlock; readonly message: string };

/** Where the contexts of fragments live: `src/contexts/<name>.ts`, with a `// @snippet` line. */
export const contextDir: string = join(repoRoot, 'packages/doc-tests/src/contexts');

const LANGUAGES: Readonly<Record<string, Language>> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', mjs: 'js' };
const SHELLS = new Set(['sh', 'bash', 'shell', 'console']);
const INSTALL = /^(?:npm (?:i|install|add)|bun add|deno add|pnpm add|yarn add)((?:\s+[^\s#]+)+)\s*(?:#.*)?$/;
const SIGNAL = /^SIG[A-Z0-9]+$/;

/**
 * Decides, for every block of one README, what the harness does with it. A block is classified by
 * its marker; without one only an install block (`npm i …`, `bun add …`, `deno add npm:…` lines and
 * comments) is recognised, and anything else becomes an `invalid` plan: the harness fails loudly
 * rather than skip a block it does not understand. `output` blocks attach to the `run` block above
 * them.
 */
export function planBlocks(blocks: readonly CodeBlock[], workspace: readonly WorkspacePackage[], readme: string): Plan[] {
  const plans: Plan[] = [];
  let lastRun: (Plan & { kind: 'run' }) | undefined;
  // What the reader sees: the markers themselves do not count as telling the reader anything.
  const prose = readme.replace(/^\s*<!--\s*doc-test:.*-->\s*$/gm, '');
  for (const block of blocks) {
    let plan: Plan;
    try {
      plan = planBlock(block, workspace, prose, lastRun);
    } catch (error) {
      if (!(error instanceof MarkerError)) throw error;
      plan = { kind: 'invalid', block, message: error.message };
    }
    if (plan.kind === 'run') lastRun = plan;
    plans.push(plan);
  }
  return plans;
}

function planBlock(block: CodeBlock, workspace: readonly WorkspacePackage[], readme: string, lastRun: (Plan & { kind: 'run' }) | undefined): Plan {
  const markers = block.markers.map((raw) => {
    try {
      return parseMarker(raw.text, raw.line);
    } catch (error) {
      if (error instanceof MarkerError) throw new MarkerError(`line ${raw.line}: ${error.message}`);
      throw error;
    }
  });
  if (markers.length === 0) return unmarked(block, workspace);
  const kinds = new Set(markers.map((m) => m.kind));
  if (markers.length > 1 && (kinds.size > 1 || !kinds.has('run'))) {
    throw new MarkerError('only `run` markers may be repeated above one block (one scenario each)');
  }
  const marker = markers[0]!;
  const language = LANGUAGES[block.lang];
  switch (marker.kind) {
    case 'run':
      if (!language) throw new MarkerError(`a ${JSON.stringify(block.lang)} block cannot run; run takes ts or js`);
      return { kind: 'run', block, language, scenarios: markers.map((m) => runScenario(m, readme)), outputs: [] };
    case 'check':
      if (!language) throw new MarkerError('check takes a ts or js block');
      return { kind: 'check', block, language, reason: required(marker, 'reason'), base: optional(marker, 'base') };
    case 'fragment': {
      if (!language) throw new MarkerError('fragment takes a ts or js block');
      const context = required(marker, 'context');
      if (context !== 'none' && !existsSync(join(contextDir, `${context}.ts`))) {
        throw new MarkerError(`context ${JSON.stringify(context)} does not exist: add packages/doc-tests/src/contexts/${context}.ts`);
      }
      return { kind: 'fragment', block, language, context: context === 'none' ? undefined : context, base: optional(marker, 'base') };
    }
    case 'output': {
      if (!lastRun) throw new MarkerError('an output block must follow the run block whose output it shows');
      const runtime = optional(marker, 'runtime') ?? lastRun.scenarios[0]!.runtimes[0]!;
      if (!lastRun.scenarios.some((s) => s.runtimes.includes(runtime as Runtime))) {
        throw new MarkerError(`the run block above does not run on ${runtime}`);
      }
      lastRun.outputs.push({ block, runtime: runtime as Runtime, varyNumbers: marker.fields.get('vary-numbers') === true });
      return { kind: 'output', block };
    }
    case 'commands': {
      if (!SHELLS.has(block.lang)) throw new MarkerError('commands takes a sh block');
      const name = optional(marker, 'with-file');
      if (name !== undefined && !lastRun) throw new MarkerError('with-file names the run block above as a file, and there is none');
      return { kind: 'commands', block, drive: drive(marker), withFile: name === undefined ? undefined : { name, from: lastRun! } };
    }
    case 'illustrative':
      return { kind: 'illustrative', block, reason: required(marker, 'reason') };
    case 'checked-by': {
      const file = required(marker, 'file');
      const id = required(marker, 'id');
      const path = join(repoRoot, 'packages/doc-tests/src', file);
      if (!existsSync(path)) throw new MarkerError(`checked-by names ${file}, which is not in packages/doc-tests/src`);
      if (!readFileSync(path, 'utf8').includes(`'${id}'`)) throw new MarkerError(`${file} does not check the block with id '${id}'`);
      return { kind: 'checked-by', block, file, id };
    }
  }
}

/** A block without a marker: an install block, or a failure naming what to add. */
function unmarked(block: CodeBlock, workspace: readonly WorkspacePackage[]): Plan {
  if (SHELLS.has(block.lang)) {
    const lines = block.code.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
    const installs = lines.map((line) => INSTALL.exec(line.trim()));
    if (lines.length > 0 && installs.every((m) => m !== null)) {
      const packages = installs.flatMap((m) => m![1]!.trim().split(/\s+/).map((name) => name.replace(/^npm:/, '')));
      const published = new Set(workspace.filter((p) => !p.private).map((p) => p.name));
      const unknown = packages.filter((name) => !published.has(name));
      if (unknown.length > 0) {
        return { kind: 'invalid', block, message: `installs ${unknown.join(', ')}, which no published workspace package is called` };
      }
      return { kind: 'install', block, packages };
    }
  }
  return {
    kind: 'invalid',
    block,
    message:
      `unmarked \`\`\`${block.lang || '(no language)'} block: say what it is with a line right above its fence, ` +
      '<!-- doc-test: run|check|fragment|output|commands|illustrative|checked-by … --> (see packages/doc-tests/README.md)',
  };
}

function runScenario(marker: Marker, readme: string): RunScenario {
  const runtimes = required(marker, 'runtimes').split(',');
  for (const runtime of runtimes) if (!RUNTIMES.includes(runtime as Runtime)) throw new MarkerError(`unknown runtime ${JSON.stringify(runtime)}`);
  const denoFlags = (optional(marker, 'deno-flags') ?? '').split(/\s+/).filter((flag) => flag !== '');
  // The flags the test uses must be the ones the README tells the reader to use.
  for (const flag of denoFlags) if (!readme.includes(flag)) throw new MarkerError(`deno-flags ${flag} is not written anywhere in this README`);
  const holdPort = marker.fields.get('hold-port') === true;
  const scenario = { ...drive(marker), runtimes: runtimes as Runtime[], denoFlags, holdPort, etcd: optional(marker, 'etcd'), markerLine: marker.line };
  if (holdPort && scenario.port === undefined) throw new MarkerError('hold-port needs port');
  return scenario;
}

function drive(marker: Marker): Drive {
  const port = optional(marker, 'port');
  const status = optional(marker, 'status');
  const exit = optional(marker, 'exit') ?? '0';
  const signals = (optional(marker, 'signal') ?? '').split(',').filter((s) => s !== '');
  for (const signal of signals) if (!SIGNAL.test(signal)) throw new MarkerError(`${JSON.stringify(signal)} is not a signal name`);
  if (!/^\d+$/.test(exit) && !SIGNAL.test(exit)) throw new MarkerError(`exit takes a code or a signal name, not ${JSON.stringify(exit)}`);
  const get = optional(marker, 'get');
  if (get !== undefined && port === undefined) throw new MarkerError('get needs port');
  return {
    port: port === undefined ? undefined : integer('port', port),
    ready: pattern(marker, 'ready'),
    get,
    status: status === undefined ? undefined : integer('status', status),
    body: pattern(marker, 'body'),
    signals: signals as NodeJS.Signals[],
    exit: /^\d+$/.test(exit) ? { code: Number(exit) } : { signal: exit as NodeJS.Signals },
    stdout: pattern(marker, 'stdout'),
    stderr: pattern(marker, 'stderr'),
    timeoutMs: integer('timeout', optional(marker, 'timeout') ?? '30000'),
  };
}

function optional(marker: Marker, key: string): string | undefined {
  const value = marker.fields.get(key);
  if (value === true) throw new MarkerError(`${key} needs a value (${key}=…)`);
  return value;
}

function required(marker: Marker, key: string): string {
  const value = optional(marker, key);
  if (value === undefined || value === '') throw new MarkerError(`${marker.kind} needs ${key}=…`);
  return value;
}

function integer(key: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new MarkerError(`${key} takes a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

function pattern(marker: Marker, key: string): RegExp | undefined {
  const source = optional(marker, key);
  if (source === undefined) return undefined;
  try {
    return new RegExp(source, 'm');
  } catch (error) {
    throw new MarkerError(`${key} is not a regular expression: ${(error as Error).message}`);
  }
}
