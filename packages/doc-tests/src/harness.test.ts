// The harness itself: how it reads Markdown and markers, how it classifies blocks (and refuses what
// it cannot), and how it compares output.
import { describe, expect, it } from 'vitest';
import { mismatch } from './expected-output.ts';
import { extractBlocks } from './markdown-blocks.ts';
import { MarkerError, parseMarker } from './marker.ts';
import { type Plan, planBlocks } from './snippet-plan.ts';
import type { WorkspacePackage } from './workspace.ts';

const workspace: WorkspacePackage[] = [
  { name: 'quiesce', dir: 'packages/quiesce', private: false },
  { name: '@quiesce/hooks', dir: 'packages/hooks', private: false },
  { name: '@quiesce/conformance', dir: 'packages/conformance', private: true },
];

const fence = '```';
function plan(markdown: string): Plan[] {
  const { blocks, problems } = extractBlocks(markdown, 'README.md');
  expect(problems).toEqual([]);
  return planBlocks(blocks, workspace, markdown);
}

describe('extractBlocks', () => {
  it('finds fenced blocks, with the markers on the lines right above them, also indented in a list', () => {
    const markdown = [
      'Intro',
      '',
      '<!-- doc-test: illustrative reason="x" -->',
      `${fence}ini`,
      '[Socket]',
      fence,
      '',
      '- an item:',
      '',
      '  <!-- doc-test: fragment context=none -->',
      `  ${fence}js`,
      '  const a = 1;',
      '  <!-- doc-test: not a marker, code -->',
      `  ${fence}`,
    ].join('\n');
    const { blocks, problems } = extractBlocks(markdown, 'README.md');
    expect(problems).toEqual([]);
    expect(blocks.map((b) => ({ line: b.line, lang: b.lang, code: b.code, markers: b.markers.map((m) => m.text) }))).toEqual([
      { line: 4, lang: 'ini', code: '[Socket]', markers: ['illustrative reason="x"'] },
      { line: 11, lang: 'js', code: 'const a = 1;\n<!-- doc-test: not a marker, code -->', markers: ['fragment context=none'] },
    ]);
  });

  it('refuses a marker that is not directly above a fence, a marker split over lines, and an unclosed fence', () => {
    const { problems } = extractBlocks(
      ['<!-- doc-test: run runtimes=node -->', '', `${fence}js`, 'x', fence, '<!-- doc-test: run', '-->', `${fence}sh`, 'echo'].join('\n'),
      'README.md',
    );
    expect(problems.map((p) => [p.line, p.message.split(':')[0]])).toEqual([
      [1, 'this doc-test marker is not directly above a code fence (no blank line or text in between)'],
      [6, 'a doc-test marker must be one whole line'],
      [8, 'the code block opened here is never closed'],
    ]);
  });
});

describe('parseMarker', () => {
  it('reads the kind, key=value, quoted values (backslashes kept for regular expressions) and flags', () => {
    const marker = parseMarker('run runtimes=node,deno deno-flags="--allow-net --allow-env" stdout="^a \\d+ \\"b\\"$" hold-port port=3000', 7);
    expect(marker.kind).toBe('run');
    expect(Object.fromEntries(marker.fields)).toEqual({
      runtimes: 'node,deno',
      'deno-flags': '--allow-net --allow-env',
      stdout: '^a \\d+ "b"$',
      'hold-port': true,
      port: '3000',
    });
  });

  it.each([
    ['runs runtimes=node', /unknown doc-test kind "runs"/],
    ['run runtime=node', /run takes no "runtime"/],
    ['run port=1 port=2', /"port" is given twice/],
    ['illustrative reason="unclosed', /cannot read/],
  ])('refuses %s', (text, message) => {
    expect(() => parseMarker(text, 1)).toThrow(MarkerError);
    expect(() => parseMarker(text, 1)).toThrow(message);
  });
});

describe('planBlocks: every block is classified, or the harness says what is missing', () => {
  it('an unmarked code block cannot slip through: it becomes a failure naming the marker to add', () => {
    const [only] = plan(`${fence}ts\nconst x: number = 1;\n${fence}`);
    expect(only).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/^unmarked ```ts block: say what it is .*<!-- doc-test: /) });
    expect(plan(`${fence}\nsome output\n${fence}`)[0]!.kind).toBe('invalid');
    expect(plan(`${fence}sh\nrm -rf /tmp/x\n${fence}`)[0]!.kind).toBe('invalid');
  });

  it('recognises an install block without a marker, and checks that it names published workspace packages', () => {
    expect(plan(`${fence}sh\nnpm i quiesce @quiesce/hooks   # npm\nbun add quiesce\n# Deno:\ndeno add npm:quiesce\n${fence}`)[0]).toMatchObject({
      kind: 'install',
      packages: ['quiesce', '@quiesce/hooks', 'quiesce', 'quiesce'],
    });
    expect(plan(`${fence}sh\nnpm i quiesce @quiesce/conformance left-pad\n${fence}`)[0]).toMatchObject({
      kind: 'invalid',
      message: 'installs @quiesce/conformance, left-pad, which no published workspace package is called',
    });
  });

  it('reads run scenarios; Deno flags must be written in the README', () => {
    const markdown = [
      'Run it with `deno run --allow-net app.ts`.',
      '<!-- doc-test: run runtimes=node,deno deno-flags="--allow-net" port=3000 get=/ status=200 signal=SIGINT,SIGINT exit=130 -->',
      '<!-- doc-test: run runtimes=bun port=3000 hold-port exit=SIGTERM -->',
      `${fence}ts`,
      'x',
      fence,
    ].join('\n');
    const [run] = plan(markdown);
    expect(run).toMatchObject({
      kind: 'run',
      language: 'ts',
      scenarios: [
        { runtimes: ['node', 'deno'], denoFlags: ['--allow-net'], port: 3000, get: '/', status: 200, signals: ['SIGINT', 'SIGINT'], exit: { code: 130 }, holdPort: false },
        { runtimes: ['bun'], holdPort: true, exit: { signal: 'SIGTERM' } },
      ],
    });
    const unwritten = plan(['<!-- doc-test: run runtimes=deno deno-flags="--allow-all" -->', `${fence}ts`, 'x', fence].join('\n'))[0];
    expect(unwritten).toMatchObject({ kind: 'invalid', message: 'deno-flags --allow-all is not written anywhere in this README' });
  });

  it.each([
    ['<!-- doc-test: run runtimes=node,java -->', 'ts', /unknown runtime "java"/],
    ['<!-- doc-test: run runtimes=node get=/ -->', 'ts', /get needs port/],
    ['<!-- doc-test: run runtimes=node signal=TERM -->', 'ts', /"TERM" is not a signal name/],
    ['<!-- doc-test: run runtimes=node -->', 'sh', /cannot run/],
    ['<!-- doc-test: fragment context=nowhere -->', 'ts', /context "nowhere" does not exist/],
    ['<!-- doc-test: illustrative -->', 'ini', /illustrative needs reason=/],
    ['<!-- doc-test: output -->', '', /must follow the run block/],
    ['<!-- doc-test: checked-by file=missing.test.ts id=x -->', 'sh', /not in packages\/doc-tests\/src/],
    ['<!-- doc-test: fragment context=none -->\n<!-- doc-test: fragment context=none -->', 'ts', /only `run` markers may be repeated/],
  ])('refuses %s on a %s block', (marker, lang, message) => {
    const [only] = plan(`${marker}\n${fence}${lang}\nx\n${fence}`);
    expect(only?.kind).toBe('invalid');
    expect(only?.kind === 'invalid' && only.message).toMatch(message);
  });

  it('attaches an output block to the run block above it', () => {
    const plans = plan(['<!-- doc-test: run runtimes=node -->', `${fence}js`, 'x', fence, '<!-- doc-test: output vary-numbers -->', fence, 'y', fence].join('\n'));
    expect(plans.map((p) => p.kind)).toEqual(['run', 'output']);
    expect(plans[0]).toMatchObject({ outputs: [{ runtime: 'node', varyNumbers: true }] });
  });
});

describe('mismatch: an output block against what was printed', () => {
  const printed = ['listening', 'registered /services/hello/127.0.0.1:41234 (lease 42) in 5ms', 'noise', 'quiesce: shutdown clean in 12ms; exit 0'];

  it('matches lines in order, skipping ^C and blank lines, with … as a wildcard', () => {
    expect(mismatch(printed, 'listening\n^C\n\nquiesce: shutdown clean in …; exit 0', false)).toBeUndefined();
  });

  it('lets every number vary with varyNumbers, and only then', () => {
    const expected = 'registered /services/hello/127.0.0.1:3000 (lease 7) in 45ms';
    expect(mismatch(printed, expected, true)).toBeUndefined();
    expect(mismatch(printed, expected, false)).toMatch(/expected a line like/);
  });

  it('fails on a missing line, and on lines out of order', () => {
    expect(mismatch(printed, 'quiesce: shutdown failed in …', false)).toMatch(/quiesce: shutdown failed/);
    expect(mismatch(printed, 'quiesce: shutdown clean in …\nlistening', false)).toMatch(/expected a line like\n {2}listening/);
  });
});
