// Every fenced code block of README.md, packages/*/README.md and apps/*/README.md: classified (an
// unmarked block the harness cannot classify fails here), type-checked against the built packages
// in one program, and — when it runs — run on each runtime its marker names, as a real process
// driven by a real request and a real signal, its exit code and output checked against the marker
// and the README's output block. The marker syntax is in packages/doc-tests/README.md.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, startEtcd } from '@quiesce/test-support';
import { type ProcessOutcome, driveProcess, freePort, holdPort } from './drive-process.ts';
import { mismatch } from './expected-output.ts';
import { readAllReadmes, slug, virtualSource } from './readme-plans.ts';
import type { Drive, Plan, RunScenario } from './snippet-plan.ts';
import { transpile, typeCheckSnippets } from './typecheck-snippets.ts';
import { type Runtime, repoRoot, runtimeBinary, snippetDir, workspacePackages } from './workspace.ts';

const readmes = readAllReadmes();
const plans = readmes.flatMap((readme) => readme.plans);

/** The environment every snippet process gets: nothing of the test runner's own configuration. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'USER']) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  return { ...env, ...extra };
}

/** A process's output, for a failure message. */
function shown(outcome: ProcessOutcome): string {
  return outcome.lines.map((line) => `  | ${line}`).join('\n') || '  (no output)';
}

/** Checks what a drive promised; returns the failures (empty when everything held). */
function failures(drive: Drive, outcome: ProcessOutcome): string[] {
  const found: string[] = [];
  if (outcome.problem) found.push(outcome.problem);
  if ((drive.port !== undefined || drive.ready !== undefined) && !outcome.ready) found.push('it never came up (no accepting port / ready line) before it exited');
  if (drive.get !== undefined && outcome.response) {
    if (drive.status !== undefined && outcome.response.status !== drive.status) found.push(`GET ${drive.get} answered ${outcome.response.status}, not ${drive.status}`);
    if (drive.body && !drive.body.test(outcome.response.body)) found.push(`GET ${drive.get} answered ${JSON.stringify(outcome.response.body)}, not ${drive.body}`);
  }
  if (outcome.exit) {
    const want = drive.exit;
    const got = outcome.exit;
    if ('code' in want ? got.code !== want.code : got.signal !== want.signal) {
      found.push(`it ended with ${got.signal ?? `exit code ${got.code}`}, not ${'code' in want ? `exit code ${want.code}` : want.signal}`);
    }
  }
  if (drive.stdout && !drive.stdout.test(outcome.stdout.join('\n'))) found.push(`stdout has no match for ${drive.stdout}`);
  if (drive.stderr && !drive.stderr.test(outcome.stderr.join('\n'))) found.push(`stderr has no match for ${drive.stderr}`);
  return found;
}

let etcd: Promise<EtcdServer> | undefined;
afterAll(async () => {
  await (await etcd)?.stop();
});

beforeAll(() => {
  rmSync(snippetDir, { recursive: true, force: true });
  mkdirSync(join(snippetDir, 'typecheck'), { recursive: true });
});

describe('every README code block is classified', () => {
  for (const readme of readmes) {
    for (const problem of readme.problems) {
      it(`${problem.file}:${problem.line}: ${problem.message}`, () => {
        throw new Error(`${problem.file}:${problem.line}: ${problem.message}`);
      });
    }
    for (const plan of readme.plans) {
      it(`${plan.block.id} \`\`\`${plan.block.lang || '(none)'}: ${describePlan(plan)}`, () => {
        if (plan.kind === 'invalid') throw new Error(`${plan.block.id}: ${plan.message}`);
        if (plan.kind === 'install') {
          const published = new Set(workspacePackages().map((p) => p.name));
          for (const name of plan.packages) expect(published.has(name), name).toBe(true);
        }
      });
    }
  }
});

function describePlan(plan: Plan): string {
  switch (plan.kind) {
    case 'run':
      return `runs (${plan.scenarios.map((s) => s.runtimes.join('/')).join('; ')})`;
    case 'install':
      return `installs ${plan.packages.join(', ')}`;
    case 'illustrative':
    case 'check':
      return `${plan.kind}: ${plan.reason}`;
    case 'fragment':
      return `fragment in context ${plan.context ?? 'none'}`;
    case 'checked-by':
      return `checked by ${plan.file} (${plan.id})`;
    case 'output':
      return 'output of the run block above (checked with it)';
    case 'commands':
      return 'commands, run';
    case 'invalid':
      return 'NOT CLASSIFIED';
  }
}

describe('TypeScript and JavaScript blocks type-check against the built packages', () => {
  const sources = plans.flatMap((plan) => virtualSource(plan) ?? []);
  let diagnostics: Map<string, string[]>;
  beforeAll(() => {
    diagnostics = typeCheckSnippets(sources);
  });
  for (const source of sources) {
    it(source.id, () => {
      const found = diagnostics.get(source.id) ?? [];
      if (found.length > 0) throw new Error(found.join('\n'));
    });
  }
});

describe.concurrent('runnable blocks run on the runtimes their README names', () => {
  for (const plan of plans) {
    if (plan.kind !== 'run') continue;
    for (const [index, scenario] of plan.scenarios.entries()) {
      for (const runtime of scenario.runtimes) {
        it(`${plan.block.id} on ${runtime} (marker line ${scenario.markerLine})`, async () => {
          const outcome = await runScenario(plan, index, scenario, runtime);
          // With the port held by someone else, the snippet never comes up: only how it ends counts.
          const found = failures(scenario.holdPort ? { ...scenario, port: undefined } : scenario, outcome);
          for (const output of plan.outputs) {
            if (output.runtime !== runtime || index !== 0) continue;
            const wrong = mismatch(outcome.lines, output.block.code, output.varyNumbers);
            if (wrong) found.push(`the output block at ${output.block.id} does not match: ${wrong}`);
          }
          if (found.length > 0) throw new Error(`${plan.block.id} on ${runtime}:\n- ${found.join('\n- ')}\noutput:\n${shown(outcome)}`);
        });
      }
    }
  }

  for (const plan of plans) {
    if (plan.kind !== 'commands') continue;
    it(`${plan.block.id} commands`, async () => {
      const problems = await runCommands(plan);
      if (problems.length > 0) throw new Error(`${plan.block.id}:\n${problems.join('\n')}`);
    });
  }
});

/** Writes the snippet for `runtime` (with its port and etcd URL replaced) and drives it. */
async function runScenario(plan: Plan & { kind: 'run' }, index: number, scenario: RunScenario, runtime: Runtime): Promise<ProcessOutcome> {
  let code = plan.block.code;
  const port = scenario.port === undefined ? undefined : await freePort();
  if (port !== undefined) code = code.replace(new RegExp(`\\b${scenario.port}\\b`, 'g'), String(port));
  if (scenario.etcd !== undefined) {
    etcd ??= startEtcd();
    code = code.split(scenario.etcd).join((await etcd).endpoint);
  }
  const typescript = plan.language === 'ts';
  const file = join(snippetDir, `${slug(plan.block)}-${index}-${runtime}.${runtime === 'node' ? 'mjs' : typescript ? 'ts' : 'mjs'}`);
  writeFileSync(file, runtime === 'node' && typescript ? transpile(code) : code);
  const args = runtime === 'deno' ? ['run', '--quiet', '--no-prompt', ...scenario.denoFlags, file] : [file];
  const holder = scenario.holdPort ? await holdPort(port!) : undefined;
  try {
    return await driveProcess(
      { command: runtimeBinary[runtime], args, cwd: snippetDir, env: childEnv() },
      { port: holder ? undefined : port, ready: scenario.ready, get: scenario.get, signals: scenario.signals, timeoutMs: scenario.timeoutMs },
    );
  } finally {
    holder?.close();
  }
}

/**
 * Runs a `commands` block line by line with `bash -c`, from the repository root (or, with
 * `with-file`, from a directory holding the run block above under that name), with the monorepo's
 * `node_modules/.bin` first on PATH. With `port`, every line is a server: its port must accept, it
 * gets the request and the signals (to its process group, as a terminal's Ctrl-C), and must end as
 * the marker says. Without, every line must exit 0. `npm run build` is what turbo ran before this
 * test: every workspace package's dist is checked to exist instead of building again.
 */
async function runCommands(plan: Plan & { kind: 'commands' }): Promise<string[]> {
  const problems: string[] = [];
  let cwd = repoRoot;
  const port = plan.drive.port === undefined ? undefined : await freePort();
  const withPort = (text: string): string => (port === undefined ? text : text.replace(new RegExp(`\\b${plan.drive.port}\\b`, 'g'), String(port)));
  if (plan.withFile) {
    cwd = join(snippetDir, `commands-${slug(plan.block)}`);
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, plan.withFile.name), withPort(plan.withFile.from.block.code));
  }
  const PATH = `${join(repoRoot, 'node_modules/.bin')}:${process.env['PATH'] ?? ''}`;
  for (const raw of plan.block.code.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'npm run build') {
      const unbuilt = workspacePackages().filter((p) => p.name !== '@quiesce/doc-tests' && existsSync(join(repoRoot, p.dir, 'tsup.config.ts')) && !existsSync(join(repoRoot, p.dir, 'dist')));
      if (unbuilt.length > 0) problems.push(`npm run build: not built: ${unbuilt.map((p) => p.name).join(', ')}`);
      continue;
    }
    const outcome = await driveProcess(
      { command: 'bash', args: ['-c', withPort(line)], cwd, env: childEnv({ PATH }) },
      { port, get: plan.drive.get, signals: plan.drive.signals, toGroup: true, timeoutMs: plan.drive.timeoutMs },
    );
    const found = port !== undefined ? failures(plan.drive, outcome) : outcome.exit?.code === 0 ? [] : [`it exited with ${outcome.exit?.signal ?? outcome.exit?.code}`];
    if (found.length > 0 || process.env['DOC_TESTS_VERBOSE']) problems.push(`$ ${line}\n- ${found.join('\n- ')}\noutput:\n${shown(outcome)}`);
  }
  return problems;
}
