import { ProtocolFailure } from '../errors.ts';

/** One HTTP/1.x response as read off the wire. */
export interface ParsedResponse {
  readonly httpVersion: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly rawHeaders: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly chunked: boolean;
  /** The body ran until the server closed the connection (no Content-Length, not chunked). */
  readonly delimitedByClose: boolean;
}

/** A response and how many bytes of the buffer it used. */
export interface ParseResult {
  readonly response: ParsedResponse;
  readonly consumed: number;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;

function parseHead(head: string): Omit<ParsedResponse, 'body' | 'chunked' | 'delimitedByClose'> {
  const lines = head.split('\r\n');
  const match = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!match) throw new ProtocolFailure(`bad status line ${JSON.stringify(lines[0])}`);
  const rawHeaders: (readonly [string, string])[] = [];
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ProtocolFailure(`bad header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return {
    httpVersion: match[1]!,
    status: Number(match[2]),
    statusText: match[3] ?? '',
    headers,
    rawHeaders,
  };
}

/** Parses a chunked body starting at `start`; `undefined` if incomplete. */
function parseChunked(buffer: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const sizeText = buffer.subarray(at, lineEnd).toString('latin1').split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new ProtocolFailure(`bad chunk size ${JSON.stringify(sizeText)}`);
    const size = Number.parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Trailer fields, then an empty line.
      for (;;) {
        const trailerEnd = buffer.indexOf(CRLF, at);
        if (trailerEnd < 0) return undefined;
        const empty = trailerEnd === at;
        at = trailerEnd + 2;
        if (empty) return { body: Buffer.concat(parts), end: at };
      }
    }
    if (buffer.length < at + size + 2) return undefined;
    parts.push(buffer.subarray(at, at + size));
    if (buffer[at + size] !== 0x0d || buffer[at + size + 1] !== 0x0a) {
      throw new ProtocolFailure('chunk not followed by CRLF');
    }
    at += size + 2;
  }
}

/**
 * Parses the first complete response in `buffer`, skipping interim 1xx responses (except 101).
 * Returns `undefined` when more bytes are needed; `ended` says the server closed its side, which
 * completes a body delimited by close. Throws {@link ProtocolFailure} on malformed input.
 */
export function parseResponse(buffer: Buffer, method: string, ended: boolean): ParseResult | undefined {
  let offset = 0;
  for (;;) {
    const headEnd = buffer.indexOf(HEAD_END, offset);
    if (headEnd < 0) {
      if (buffer.length - offset > MAX_HEAD_BYTES) throw new ProtocolFailure('response head over 64 KiB');
      return undefined;
    }
    const head = parseHead(buffer.subarray(offset, headEnd).toString('latin1'));
    const bodyStart = headEnd + 4;
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      offset = bodyStart;
      continue;
    }
    const bodyless = method === 'HEAD' || head.status === 101 || head.status === 204 || head.status === 304;
    if (bodyless) {
      return {
        response: { ...head, body: Buffer.alloc(0), chunked: false, delimitedByClose: false },
        consumed: bodyStart,
      };
    }
    const encoding = head.headers['transfer-encoding'];
    if (encoding !== undefined && /(^|,)\s*chunked\s*$/i.test(encoding)) {
      const chunked = parseChunked(buffer, bodyStart);
      if (!chunked) return undefined;
      return {
        response: { ...head, body: chunked.body, chunked: true, delimitedByClose: false },
        consumed: chunked.end,
      };
    }
    const lengthText = head.headers['content-length'];
    if (lengthText !== undefined) {
      if (!/^\d+$/.test(lengthText)) throw new ProtocolFailure(`bad Content-Length ${JSON.stringify(lengthText)}`);
      const end = bodyStart + Number(lengthText);
      if (buffer.length < end) return undefined;
      return {
        response: { ...head, body: buffer.subarray(bodyStart, end), chunked: false, delimitedByClose: false },
        consumed: end,
      };
    }
    if (!ended) return undefined;
    return {
      response: { ...head, body: buffer.subarray(bodyStart), chunked: false, delimitedByClose: true },
      consumed: buffer.length,
    };
  }
}
