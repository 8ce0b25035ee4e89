/** What a marker says a code block is. See packages/doc-tests/README.md for each kind. */
export type MarkerKind = 'run' | 'check' | 'fragment' | 'output' | 'commands' | 'illustrative' | 'checked-by';

/** A parsed `<!-- doc-test: KIND key=value key="a value" flag -->`. */
export interface Marker {
  readonly kind: MarkerKind;
  /** `key=value` pairs; a bare word is a flag with the value `true`. */
  readonly fields: ReadonlyMap<string, string | true>;
  readonly line: number;
}

/** The keys each kind takes; anything else is refused, so a typo cannot silently weaken a check. */
export const MARKER_KEYS: Readonly<Record<MarkerKind, readonly string[]>> = {
  run: [
    'runtimes',
    'deno-flags',
    'port',
    'hold-port',
    'ready',
    'get',
    'status',
    'body',
    'signal',
    'exit',
    'stdout',
    'stderr',
    'etcd',
    'timeout',
  ],
  check: ['reason', 'base'],
  fragment: ['context', 'base'],
  output: ['runtime', 'vary-numbers'],
  commands: ['with-file', 'port', 'get', 'status', 'body', 'signal', 'exit', 'stdout', 'timeout'],
  illustrative: ['reason'],
  'checked-by': ['file', 'id'],
};

/** A marker the harness cannot read; the message says what is wrong and where. */
export class MarkerError extends Error {
  override readonly name: string = 'MarkerError';
  readonly code: 'QUIESCE_DOC_TEST_MARKER' = 'QUIESCE_DOC_TEST_MARKER';
}

const TOKEN = /\s*([a-z][a-z0-9-]*)(?:=(?:"((?:[^"\\]|\\.)*)"|([^\s"]+)))?/y;

/**
 * Parses the text of a marker (what follows `doc-test:`). Throws {@link MarkerError} for an unknown
 * kind, an unknown key, a repeated key, or text it cannot split into `key=value` / `key="…"` / flags.
 *
 * @example
 * ```ts
 * parseMarker('run runtimes=node,deno port=3000 signal=SIGTERM exit=0', 12).fields.get('port'); // '3000'
 * ```
 */
export function parseMarker(text: string, line: number): Marker {
  const kind = /^[a-z-]+/.exec(text)?.[0];
  if (kind === undefined || !(kind in MARKER_KEYS)) {
    throw new MarkerError(`unknown doc-test kind ${JSON.stringify(kind ?? text)}; use one of ${Object.keys(MARKER_KEYS).join(', ')}`);
  }
  const fields = new Map<string, string | true>();
  let at = kind.length;
  while (at < text.length) {
    if (text.slice(at).trim() === '') break;
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (!match || match[0].trim() === '') throw new MarkerError(`cannot read ${JSON.stringify(text.slice(at).trim())}: write key=value, key="a value" or a flag`);
    const [, key, quoted, bare] = match;
    if (!MARKER_KEYS[kind as MarkerKind].includes(key!)) {
      throw new MarkerError(`${kind} takes no ${JSON.stringify(key)}; it takes ${MARKER_KEYS[kind as MarkerKind].join(', ')}`);
    }
    if (fields.has(key!)) throw new MarkerError(`${JSON.stringify(key)} is given twice`);
    fields.set(key!, quoted !== undefined ? quoted.replace(/\\"/g, '"') : (bare ?? true));
    at = TOKEN.lastIndex;
  }
  return { kind: kind as MarkerKind, fields, line };
}
