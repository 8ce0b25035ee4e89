/** A `<!-- doc-test: … -->` comment, as written. */
export interface RawMarker {
  /** What follows `doc-test:`, trimmed. */
  readonly text: string;
  /** 1-based line in the Markdown file. */
  readonly line: number;
}

/** One fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root (`packages/hooks/README.md`). */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The info string's first word, lower-cased (`ts`, `js`, `sh`, `ini`); `''` when there is none. */
  readonly lang: string;
  /** The block's text, without the fences and without the indentation of the fence. */
  readonly code: string;
  /** The markers on the lines right above the fence, in order. */
  readonly markers: readonly RawMarker[];
  /** A stable name: `packages/hooks/README.md:19`. */
  readonly id: string;
}

/** Something in the Markdown the harness refuses: a marker that belongs to no block, a fence never closed. */
export interface MarkdownProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

const FENCE = /^( {0,3}|\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const MARKER = /^\s*<!--\s*doc-test:(.*?)-->\s*$/;

/**
 * Every fenced code block of `markdown` (also inside list items), with the `<!-- doc-test: … -->`
 * markers written on the lines directly above its opening fence. A marker anywhere else (after a
 * blank line, inside a paragraph, two markers with text between) and an unclosed fence are returned
 * as problems: the harness fails on them rather than guessing. Markers inside a code block are code.
 */
export function extractBlocks(markdown: string, file: string): { blocks: CodeBlock[]; problems: MarkdownProblem[] } {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  const problems: MarkdownProblem[] = [];
  let pending: RawMarker[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const fence = FENCE.exec(text);
    if (fence) {
      const indent = fence[1]!.length;
      const ticks = fence[2]!;
      const body: string[] = [];
      let closed = false;
      let j = i + 1;
      for (; j < lines.length; j++) {
        const inner = lines[j]!;
        if (new RegExp(`^\\s*${ticks[0] === '`' ? '`' : '~'}{${ticks.length},}\\s*$`).test(inner)) {
          closed = true;
          break;
        }
        body.push(inner.slice(Math.min(indent, inner.length - inner.trimStart().length)));
      }
      if (!closed) {
        problems.push({ file, line: i + 1, message: `the code block opened here is never closed` });
        return { blocks, problems };
      }
      blocks.push({ file, line: i + 1, lang: fence[3]!.toLowerCase(), code: body.join('\n'), markers: pending, id: `${file}:${i + 1}` });
      pending = [];
      i = j;
      continue;
    }
    const marker = MARKER.exec(text);
    if (marker) {
      pending.push({ text: marker[1]!.trim(), line: i + 1 });
      continue;
    }
    // Outside inline code (`<!-- doc-test: … -->` written as an example) it must be a whole-line marker.
    const outsideCode = text.replace(/`[^`]*`/g, '');
    if (outsideCode.includes('<!-- doc-test') || outsideCode.includes('<!--doc-test')) {
      problems.push({ file, line: i + 1, message: 'a doc-test marker must be one whole line: <!-- doc-test: KIND key=value … -->' });
    }
    for (const orphan of pending) {
      problems.push({ file, line: orphan.line, message: 'this doc-test marker is not directly above a code fence (no blank line or text in between)' });
    }
    pending = [];
  }
  for (const orphan of pending) problems.push({ file, line: orphan.line, message: 'this doc-test marker is not followed by a code block' });
  return { blocks, problems };
}
