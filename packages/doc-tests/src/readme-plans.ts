import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CodeBlock, type MarkdownProblem, extractBlocks } from './markdown-blocks.ts';
import { type Plan, contextDir, planBlocks } from './snippet-plan.ts';
import type { VirtualSource } from './typecheck-snippets.ts';
import { readmeFiles, repoRoot, snippetDir, workspacePackages } from './workspace.ts';

/** One README with what the harness makes of each of its blocks. */
export interface ReadmePlans {
  readonly file: string;
  readonly text: string;
  readonly plans: readonly Plan[];
  readonly problems: readonly MarkdownProblem[];
}

/** Every README of the repository, read and classified. */
export function readAllReadmes(): ReadmePlans[] {
  const workspace = workspacePackages();
  return readmeFiles().map((file) => {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    const { blocks, problems } = extractBlocks(text, file);
    return { file, text, plans: planBlocks(blocks, workspace, text), problems };
  });
}

/** A file-name-safe name for a block: `packages-hooks-README-md-19`. */
export function slug(block: CodeBlock): string {
  return `${block.file}-${block.line}`.replace(/[^A-Za-z0-9]+/g, '-');
}

const SNIPPET_MARK = /^[ \t]*\/\/ @snippet[ \t]*$/m;

/**
 * The type-check program's file for a `run`, `check` or `fragment` block: the snippet as it is, or
 * a fragment placed at the `// @snippet` line of its context (`src/contexts/<name>.ts`). It
 * pretends to live in `.snippets/` (or in `base`, for a snippet that imports relative paths).
 */
export function virtualSource(plan: Plan): VirtualSource | undefined {
  if (plan.kind !== 'run' && plan.kind !== 'check' && plan.kind !== 'fragment') return undefined;
  const base = plan.kind === 'run' ? undefined : plan.base;
  const dir = base === undefined ? join(snippetDir, 'typecheck') : join(repoRoot, base);
  let before = '';
  let after = '';
  let extension = plan.language;
  if (plan.kind === 'fragment' && plan.context !== undefined) {
    const context = readFileSync(join(contextDir, `${plan.context}.ts`), 'utf8');
    const mark = SNIPPET_MARK.exec(context);
    if (!mark) throw new Error(`src/contexts/${plan.context}.ts has no "// @snippet" line`);
    before = context.slice(0, mark.index);
    after = context.slice(mark.index + mark[0].length);
    // The context is TypeScript; a JavaScript fragment is checked inside it as TypeScript.
    extension = 'ts';
  }
  const startLine = before.split('\n').length - 1;
  return {
    id: plan.block.id,
    path: join(dir, `__doc_snippet_${slug(plan.block)}.${extension}`),
    text: `${before}${plan.block.code}\n${after}`,
    snippetStart: startLine,
    snippetLines: plan.block.code.split('\n').length,
    readmeLine: plan.block.line + 1,
    readme: plan.block.file,
  };
}
