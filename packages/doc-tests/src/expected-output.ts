/**
 * Checks that the lines of an `output` block appear, in order, in what a process printed. `…` in
 * an expected line matches anything; with `varyNumbers`, any number matches any number (lease IDs,
 * durations, ports). A line that is only `^C` marks where the signal was sent and is skipped, as are
 * blank lines. Returns `undefined` when everything matched, else which line did not.
 *
 * @example
 * ```ts
 * mismatch(['quiesce: shutdown clean in 5ms'], 'quiesce: shutdown clean in …', false); // undefined
 * ```
 */
export function mismatch(actual: readonly string[], expected: string, varyNumbers: boolean): string | undefined {
  let from = 0;
  for (const line of expected.split('\n')) {
    const want = line.trimEnd();
    if (want.trim() === '' || want.trim() === '^C') continue;
    const pattern = linePattern(want, varyNumbers);
    const at = actual.findIndex((candidate, i) => i >= from && pattern.test(candidate.trimEnd()));
    if (at === -1) {
      return `expected a line like\n  ${want}\nafter line ${from} of the output:\n${actual.map((l) => `  | ${l}`).join('\n')}`;
    }
    from = at + 1;
  }
  return undefined;
}

function linePattern(line: string, varyNumbers: boolean): RegExp {
  let source = '';
  for (const part of line.split(/(…|\d+)/)) {
    if (part === '…') source += '.*';
    else if (/^\d+$/.test(part)) source += varyNumbers ? '\\d+' : part;
    else source += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
