import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './workspace.ts';

/** One snippet as a file of the type-check program (never written to disk). */
export interface VirtualSource {
  /** The block's id (`packages/hooks/README.md:19`). */
  readonly id: string;
  /** Absolute path the file pretends to have: it decides module format and how imports resolve. */
  readonly path: string;
  readonly text: string;
  /** 0-based line of the file where the snippet's first line is (after a context's lines). */
  readonly snippetStart: number;
  readonly snippetLines: number;
  /** 1-based README line of the snippet's first line. */
  readonly readmeLine: number;
  /** The README, for messages. */
  readonly readme: string;
}

/**
 * The compiler options a user's project would have: strict TypeScript, ESM under NodeNext, the DOM
 * and Node's and Bun's types (the snippets are for Node, Bun and Deno). JavaScript snippets are
 * checked too (`checkJs`, without the implicit-any errors plain JavaScript cannot avoid). Every file
 * is a module, so that snippets never see each other's names.
 */
const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
  strict: true,
  skipLibCheck: true,
  noEmit: true,
  allowJs: true,
  checkJs: true,
  allowImportingTsExtensions: true,
  esModuleInterop: true,
  types: ['node', 'bun'],
  typeRoots: [join(repoRoot, 'node_modules/@types')],
};

/**
 * Type-checks every snippet in ONE program (the packages' declarations and Node's types are read
 * once), importing the packages as a user does: through `node_modules` and each package's
 * `exports`, i.e. the built `dist/*.d.ts`. Returns, per snippet id, its diagnostics as
 * `README.md:LINE: message` lines (a diagnostic in a fragment's context names the context line).
 */
export function typeCheckSnippets(sources: readonly VirtualSource[]): Map<string, string[]> {
  const byPath = new Map(sources.map((source) => [source.path, source]));
  const host = ts.createCompilerHost(OPTIONS);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (path) => byPath.has(path) || fileExists.call(host, path);
  host.readFile = (path) => byPath.get(path)?.text ?? readFile.call(host, path);
  host.getSourceFile = (path, language, onError, create) => {
    const source = byPath.get(path);
    if (source) return ts.createSourceFile(path, source.text, language, true);
    return getSourceFile.call(host, path, language, onError, create);
  };
  const program = ts.createProgram({ rootNames: sources.map((s) => s.path), options: OPTIONS, host });
  const results = new Map<string, string[]>();
  for (const source of sources) {
    const file = program.getSourceFile(source.path);
    if (!file) {
      results.set(source.id, [`${source.readme}:${source.readmeLine}: the type-check program did not load this snippet`]);
      continue;
    }
    // JavaScript has no annotations: `noImplicitAny` (TS7xxx) would flag every untyped parameter.
    const javascript = /\.m?js$/.test(source.path);
    const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].filter(
      (d) => !(javascript && d.code >= 7000 && d.code < 8000),
    );
    results.set(
      source.id,
      diagnostics.map((d) => {
        const message = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
        if (d.start === undefined) return `${source.readme}:${source.readmeLine}: TS${d.code} ${message}`;
        const line = file.getLineAndCharacterOfPosition(d.start).line;
        const inSnippet = line >= source.snippetStart && line < source.snippetStart + source.snippetLines;
        const where = inSnippet ? `${source.readme}:${source.readmeLine + line - source.snippetStart}` : `${source.readme}:${source.readmeLine} (its context, line ${line + 1})`;
        return `${where}: TS${d.code} ${message}`;
      }),
    );
  }
  return results;
}

/**
 * TypeScript to JavaScript for Node 20, which cannot run `.ts`: types removed, nothing else changed
 * (what `tsc` would emit for a user).
 */
export function transpile(code: string): string {
  return ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: false },
  }).outputText;
}
