// A real OTLP/HTTP receiver for tests: listens on loopback, takes what OpenTelemetry exporters send
// to /v1/traces and /v1/metrics as http/json or http/protobuf (gzip or not), answers as a collector
// does, and records every span and metric in one shape whichever encoding carried it. Protobuf is
// read with the field numbers of opentelemetry-proto and a wire reader of its own (below), so that
// no package of OpenTelemetry is needed to receive what they send.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** An attribute value, as OTLP carries it (`AnyValue`). */
export type OtlpValue = string | number | boolean | null | OtlpValue[] | { readonly [key: string]: OtlpValue };
export type OtlpAttributes = Readonly<Record<string, OtlpValue>>;

export interface ReceivedSpan {
  /** Hex; `parentSpanId` is `''` for a root span. */
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: OtlpAttributes;
  readonly events: readonly { readonly name: string; readonly timeUnixNano: bigint; readonly attributes: OtlpAttributes }[];
  readonly status: { readonly code: number; readonly message: string };
  readonly resource: OtlpAttributes;
  readonly scope: { readonly name: string; readonly version: string };
}

export interface ReceivedPoint {
  readonly attributes: OtlpAttributes;
  readonly timeUnixNano: bigint;
  /** Sum and gauge points. */
  readonly value?: number;
  /** Histogram points. */
  readonly count?: number;
  readonly sum?: number;
  readonly bucketCounts?: readonly number[];
  readonly explicitBounds?: readonly number[];
}

export interface ReceivedMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly type: 'sum' | 'gauge' | 'histogram' | 'other';
  readonly points: readonly ReceivedPoint[];
  readonly resource: OtlpAttributes;
  readonly scope: { readonly name: string; readonly version: string };
}

export interface ReceivedRequest {
  readonly path: string;
  readonly protocol: 'http/json' | 'http/protobuf';
  /** `gzip` or `identity`. */
  readonly encoding: string;
  /** The body's size once decompressed. */
  readonly bytes: number;
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT`: what `OTEL_EXPORTER_OTLP_ENDPOINT` takes. */
  readonly url: string;
  readonly requests: readonly ReceivedRequest[];
  readonly spans: readonly ReceivedSpan[];
  readonly metrics: readonly ReceivedMetric[];
  /** Requests it could not read, with why (answered 400). */
  readonly rejected: readonly string[];
  /** Resolves once `holds()` is true after a request; rejects with what arrived after `timeoutMs`. */
  waitFor(holds: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Options for {@link startOtlpReceiver}. */
export interface OtlpReceiverOptions {
  /**
   * Called for each request once its spans or metrics are recorded, before it is answered: the
   * exporter is still waiting then, so this is the moment to check, say, that the process sending
   * it has not exited yet.
   */
  readonly onRequest?: (request: ReceivedRequest) => void;
}

/**
 * Starts a real OTLP/HTTP receiver on 127.0.0.1 and a free port: `url` is what
 * `OTEL_EXPORTER_OTLP_ENDPOINT` takes. It answers `/v1/traces` and `/v1/metrics` in http/json and
 * http/protobuf (gzip or not) as a collector does, records spans and metrics in one shape, and
 * refuses anything else (404, 415, or 400 for a body it cannot read, listed in `rejected`).
 *
 * @example
 * ```ts
 * const receiver = await startOtlpReceiver();
 * const child = startChild(runtimeCommand('node', script), { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
 * await receiver.waitFor(() => receiver.spans.some((span) => span.name === 'quiesce.shutdown'));
 * await receiver.close();
 * ```
 */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const requests: ReceivedRequest[] = [];
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetric[] = [];
  const rejected: string[] = [];
  const waiters = new Set<() => void>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const protocol = type === 'application/json' ? 'http/json' : type === 'application/x-protobuf' ? 'http/protobuf' : undefined;
    if (req.method !== 'POST' || (path !== '/v1/traces' && path !== '/v1/metrics') || !protocol) {
      rejected.push(`${req.method} ${path} ${type}`);
      res.writeHead(path === '/v1/traces' || path === '/v1/metrics' ? 415 : 404).end();
      return;
    }
    try {
      const encoding = req.headers['content-encoding'] ?? 'identity';
      if (encoding === 'gzip') body = gunzipSync(body);
      const request: ReceivedRequest = { path, protocol, encoding, bytes: body.length };
      requests.push(request);
      if (path === '/v1/traces') spans.push(...(protocol === 'http/json' ? spansFromJson(JSON.parse(body.toString('utf8'))) : spansFromProtobuf(body)));
      else metrics.push(...(protocol === 'http/json' ? metricsFromJson(JSON.parse(body.toString('utf8'))) : metricsFromProtobuf(body)));
      options.onRequest?.(request);
    } catch (error) {
      rejected.push(`${path} ${protocol}: ${(error as Error).message}`);
      res.writeHead(400).end();
      return;
    }
    // An empty Export*ServiceResponse: full success.
    if (protocol === 'http/json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    for (const wake of waiters) wake();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      rejected.push(String(error));
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    spans,
    metrics,
    rejected,
    waitFor(holds, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        if (holds()) return resolve();
        const wake = (): void => {
          if (!holds()) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          const got = `${requests.length} requests, spans [${spans.map((s) => s.name).join(', ')}], metrics [${metrics.map((m) => m.name).join(', ')}], rejected [${rejected.join('; ')}]`;
          reject(new Error(`the OTLP receiver did not get what was awaited within ${timeoutMs} ms; it got ${got}`));
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ——— OTLP/JSON (protobuf's JSON mapping: lowerCamelCase fields, hex ids, 64-bit numbers as strings or numbers) ———

type Json = Record<string, unknown>;
const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);
const nanos = (value: unknown): bigint => (value === undefined || value === null ? 0n : BigInt(value as string | number));

function anyValueFromJson(value: Json | undefined): OtlpValue {
  if (!value) return null;
  if ('stringValue' in value) return value['stringValue'] as string;
  if ('boolValue' in value) return value['boolValue'] as boolean;
  if ('intValue' in value) return Number(value['intValue']);
  if ('doubleValue' in value) return Number(value['doubleValue']);
  if ('arrayValue' in value) return list((value['arrayValue'] as Json)['values']).map(anyValueFromJson);
  if ('kvlistValue' in value) return attributesFromJson((value['kvlistValue'] as Json)['values']);
  if ('bytesValue' in value) return value['bytesValue'] as string;
  return null;
}

function attributesFromJson(values: unknown): OtlpAttributes {
  return Object.fromEntries(list(values).map((kv) => [kv['key'] as string, anyValueFromJson(kv['value'] as Json | undefined)]));
}

const scopeFromJson = (scope: unknown): ReceivedSpan['scope'] => ({
  name: ((scope as Json | undefined)?.['name'] as string) ?? '',
  version: ((scope as Json | undefined)?.['version'] as string) ?? '',
});

function spansFromJson(request: Json): ReceivedSpan[] {
  return list(request['resourceSpans']).flatMap((rs) => {
    const resource = attributesFromJson((rs['resource'] as Json | undefined)?.['attributes']);
    return list(rs['scopeSpans']).flatMap((ss) => {
      const scope = scopeFromJson(ss['scope']);
      return list(ss['spans']).map((span) => {
        const status = (span['status'] as Json | undefined) ?? {};
        return {
          traceId: (span['traceId'] as string) ?? '',
          spanId: (span['spanId'] as string) ?? '',
          parentSpanId: (span['parentSpanId'] as string) ?? '',
          name: span['name'] as string,
          kind: Number(span['kind'] ?? 0),
          startTimeUnixNano: nanos(span['startTimeUnixNano']),
          endTimeUnixNano: nanos(span['endTimeUnixNano']),
          attributes: attributesFromJson(span['attributes']),
          events: list(span['events']).map((event) => ({
            name: event['name'] as string,
            timeUnixNano: nanos(event['timeUnixNano']),
            attributes: attributesFromJson(event['attributes']),
          })),
          status: { code: Number(status['code'] ?? 0), message: (status['message'] as string) ?? '' },
          resource,
          scope,
        };
      });
    });
  });
}

function pointFromJson(point: Json, histogram: boolean): ReceivedPoint {
  const base = { attributes: attributesFromJson(point['attributes']), timeUnixNano: nanos(point['timeUnixNano']) };
  if (histogram) {
    return {
      ...base,
      count: Number(point['count'] ?? 0),
      sum: Number(point['sum'] ?? 0),
      bucketCounts: list(point['bucketCounts']).map(Number),
      explicitBounds: list(point['explicitBounds']).map(Number),
    };
  }
  return { ...base, value: Number(point['asDouble'] ?? point['asInt'] ?? 0) };
}

function metricsFromJson(request: Json): ReceivedMetric[] {
  return list(request['resourceMetrics']).flatMap((rm) => {
    const resource = attributesFromJson((rm['resource'] as Json | undefined)?.['attributes']);
    return list(rm['scopeMetrics']).flatMap((sm) => {
      const scope = scopeFromJson(sm['scope']);
      return list(sm['metrics']).map((metric) => {
        const [type, data] = (['sum', 'gauge', 'histogram'] as const).map((t) => [t, metric[t] as Json | undefined] as const).find(([, d]) => d) ?? ['other', undefined];
        return {
          name: metric['name'] as string,
          description: (metric['description'] as string) ?? '',
          unit: (metric['unit'] as string) ?? '',
          type,
          points: list(data?.['dataPoints']).map((point) => pointFromJson(point, type === 'histogram')),
          resource,
          scope,
        };
      });
    });
  });
}

// ——— OTLP/protobuf (field numbers from opentelemetry-proto: common, resource, trace, metrics) ———

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/** The protobuf wire format, as far as OTLP uses it: varints, 64-bit, length-delimited and 32-bit fields. */
class ProtobufReader {
  pos = 0;
  readonly #buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  isAtEnd(): boolean {
    return this.pos >= this.#buf.length;
  }

  readTag(): { fieldNumber: number; wireType: number } {
    const raw = this.readVarint();
    return { fieldNumber: Math.floor(raw / 8), wireType: raw % 8 };
  }

  /** A base-128 varint as a number (exact up to 2^53, which covers every count and id OTLP sends as one). */
  readVarint(): number {
    let result = 0;
    for (let shift = 0; this.pos < this.#buf.length; shift += 7) {
      const byte = this.#buf[this.pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new Error('truncated protobuf: a varint runs past the end');
  }

  readBytes(): Uint8Array {
    const length = this.readVarint();
    if (this.pos + length > this.#buf.length) throw new Error(`truncated protobuf: ${length} bytes announced at ${this.pos}, ${this.#buf.length - this.pos} left`);
    const bytes = this.#buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return bytes;
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.readVarint();
    else if (wireType === WIRE_BYTES) this.readBytes();
    else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
      this.pos += wireType === WIRE_FIXED64 ? 8 : 4;
      if (this.pos > this.#buf.length) throw new Error('truncated protobuf: a fixed-size field runs past the end');
    } else throw new Error(`protobuf wire type ${wireType} is not used by OTLP`);
  }
}

/** One field of a message: its number and its raw value. */
interface Field {
  readonly number: number;
  readonly varint: number;
  readonly bytes: Uint8Array;
  /** The 8 bytes of a fixed64 / double field. */
  readonly fixed: DataView | undefined;
}

function* fields(buf: Uint8Array): Generator<Field> {
  const reader = new ProtobufReader(buf);
  while (!reader.isAtEnd()) {
    const { fieldNumber: number, wireType } = reader.readTag();
    if (wireType === WIRE_VARINT) yield { number, varint: reader.readVarint(), bytes: new Uint8Array(), fixed: undefined };
    else if (wireType === WIRE_BYTES) yield { number, varint: 0, bytes: reader.readBytes(), fixed: undefined };
    else if (wireType === WIRE_FIXED64) {
      const at = reader.pos;
      reader.skip(wireType);
      yield { number, varint: 0, bytes: new Uint8Array(), fixed: new DataView(buf.buffer, buf.byteOffset + at, 8) };
    } else reader.skip(wireType);
  }
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const uint64 = (field: Field): bigint => field.fixed?.getBigUint64(0, true) ?? 0n;
const double = (field: Field): number => field.fixed?.getFloat64(0, true) ?? 0;

function anyValueFromProtobuf(buf: Uint8Array): OtlpValue {
  for (const f of fields(buf)) {
    switch (f.number) {
      case 1:
        return text(f.bytes);
      case 2:
        return f.varint !== 0;
      case 3:
        return f.varint;
      case 4:
        return double(f);
      case 5:
        return [...fields(f.bytes)].filter((v) => v.number === 1).map((v) => anyValueFromProtobuf(v.bytes));
      case 6:
        return attributesFromProtobuf([...fields(f.bytes)].filter((v) => v.number === 1).map((v) => v.bytes));
      case 7:
        return hex(f.bytes);
    }
  }
  return null;
}

/** `KeyValue` messages: 1 key, 2 value. */
function attributesFromProtobuf(keyValues: readonly Uint8Array[]): OtlpAttributes {
  const out: Record<string, OtlpValue> = {};
  for (const kv of keyValues) {
    let key = '';
    let value: OtlpValue = null;
    for (const f of fields(kv)) {
      if (f.number === 1) key = text(f.bytes);
      else if (f.number === 2) value = anyValueFromProtobuf(f.bytes);
    }
    out[key] = value;
  }
  return out;
}

/** `Resource`: 1 attributes. */
const resourceFromProtobuf = (buf: Uint8Array): OtlpAttributes => attributesFromProtobuf([...fields(buf)].filter((f) => f.number === 1).map((f) => f.bytes));

/** `InstrumentationScope`: 1 name, 2 version. */
function scopeFromProtobuf(buf: Uint8Array): ReceivedSpan['scope'] {
  let name = '';
  let version = '';
  for (const f of fields(buf)) {
    if (f.number === 1) name = text(f.bytes);
    else if (f.number === 2) version = text(f.bytes);
  }
  return { name, version };
}

/** Walks `Resource*` (1 resource, 2 scope_*) and `Scope*` (1 scope, 2 items) around spans or metrics. */
function* scoped(request: Uint8Array): Generator<{ resource: OtlpAttributes; scope: ReceivedSpan['scope']; item: Uint8Array }> {
  for (const top of fields(request)) {
    if (top.number !== 1) continue;
    let resource: OtlpAttributes = {};
    const scopes: Uint8Array[] = [];
    for (const f of fields(top.bytes)) {
      if (f.number === 1) resource = resourceFromProtobuf(f.bytes);
      else if (f.number === 2) scopes.push(f.bytes);
    }
    for (const scopeItems of scopes) {
      let scope = { name: '', version: '' };
      const items: Uint8Array[] = [];
      for (const f of fields(scopeItems)) {
        if (f.number === 1) scope = scopeFromProtobuf(f.bytes);
        else if (f.number === 2) items.push(f.bytes);
      }
      for (const item of items) yield { resource, scope, item };
    }
  }
}

/** `ExportTraceServiceRequest` → `Span`: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 7/8 times, 9 attributes, 11 events, 15 status. */
function spansFromProtobuf(request: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const { resource, scope, item } of scoped(request)) {
    const span = { traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, startTimeUnixNano: 0n, endTimeUnixNano: 0n, status: { code: 0, message: '' } };
    const attributes: Uint8Array[] = [];
    const events: ReceivedSpan['events'][number][] = [];
    for (const f of fields(item)) {
      if (f.number === 1) span.traceId = hex(f.bytes);
      else if (f.number === 2) span.spanId = hex(f.bytes);
      else if (f.number === 4) span.parentSpanId = hex(f.bytes);
      else if (f.number === 5) span.name = text(f.bytes);
      else if (f.number === 6) span.kind = f.varint;
      else if (f.number === 7) span.startTimeUnixNano = uint64(f);
      else if (f.number === 8) span.endTimeUnixNano = uint64(f);
      else if (f.number === 9) attributes.push(f.bytes);
      else if (f.number === 11) events.push(eventFromProtobuf(f.bytes));
      else if (f.number === 15) span.status = statusFromProtobuf(f.bytes);
    }
    out.push({ ...span, attributes: attributesFromProtobuf(attributes), events, resource, scope });
  }
  return out;
}

/** `Span.Event`: 1 time_unix_nano, 2 name, 3 attributes. */
function eventFromProtobuf(buf: Uint8Array): ReceivedSpan['events'][number] {
  let name = '';
  let timeUnixNano = 0n;
  const attributes: Uint8Array[] = [];
  for (const f of fields(buf)) {
    if (f.number === 1) timeUnixNano = uint64(f);
    else if (f.number === 2) name = text(f.bytes);
    else if (f.number === 3) attributes.push(f.bytes);
  }
  return { name, timeUnixNano, attributes: attributesFromProtobuf(attributes) };
}

/** `Status`: 2 message, 3 code. */
function statusFromProtobuf(buf: Uint8Array): ReceivedSpan['status'] {
  let code = 0;
  let message = '';
  for (const f of fields(buf)) {
    if (f.number === 2) message = text(f.bytes);
    else if (f.number === 3) code = f.varint;
  }
  return { code, message };
}

/** `ExportMetricsServiceRequest` → `Metric`: 1 name, 2 description, 3 unit, 5 gauge, 7 sum, 9 histogram. */
function metricsFromProtobuf(request: Uint8Array): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const { resource, scope, item } of scoped(request)) {
    let name = '';
    let description = '';
    let unit = '';
    let type: ReceivedMetric['type'] = 'other';
    const points: ReceivedPoint[] = [];
    for (const f of fields(item)) {
      if (f.number === 1) name = text(f.bytes);
      else if (f.number === 2) description = text(f.bytes);
      else if (f.number === 3) unit = text(f.bytes);
      else if (f.number === 5 || f.number === 7 || f.number === 9) {
        type = f.number === 5 ? 'gauge' : f.number === 7 ? 'sum' : 'histogram';
        // Gauge, Sum and Histogram all hold their data points in field 1.
        for (const point of fields(f.bytes)) {
          if (point.number === 1) points.push(type === 'histogram' ? histogramPointFromProtobuf(point.bytes) : numberPointFromProtobuf(point.bytes));
        }
      }
    }
    out.push({ name, description, unit, type, points, resource, scope });
  }
  return out;
}

/** `NumberDataPoint`: 3 time_unix_nano, 4 as_double, 6 as_int (sfixed64), 7 attributes. */
function numberPointFromProtobuf(buf: Uint8Array): ReceivedPoint {
  let timeUnixNano = 0n;
  let value = 0;
  const attributes: Uint8Array[] = [];
  for (const f of fields(buf)) {
    if (f.number === 3) timeUnixNano = uint64(f);
    else if (f.number === 4) value = double(f);
    else if (f.number === 6) value = Number(f.fixed?.getBigInt64(0, true) ?? 0n);
    else if (f.number === 7) attributes.push(f.bytes);
  }
  return { attributes: attributesFromProtobuf(attributes), timeUnixNano, value };
}

/** `HistogramDataPoint`: 3 time, 4 count (fixed64), 5 sum, 6 bucket_counts (packed fixed64), 7 explicit_bounds (packed double), 9 attributes. */
function histogramPointFromProtobuf(buf: Uint8Array): ReceivedPoint {
  let timeUnixNano = 0n;
  let count = 0;
  let sum = 0;
  const bucketCounts: number[] = [];
  const explicitBounds: number[] = [];
  const attributes: Uint8Array[] = [];
  const packed = (bytes: Uint8Array, read: (view: DataView, at: number) => number, into: number[]): void => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at + 8 <= bytes.byteLength; at += 8) into.push(read(view, at));
  };
  for (const f of fields(buf)) {
    if (f.number === 3) timeUnixNano = uint64(f);
    else if (f.number === 4) count = Number(uint64(f));
    else if (f.number === 5) sum = double(f);
    else if (f.number === 6) {
      if (f.fixed) bucketCounts.push(Number(uint64(f)));
      else packed(f.bytes, (view, at) => Number(view.getBigUint64(at, true)), bucketCounts);
    } else if (f.number === 7) {
      if (f.fixed) explicitBounds.push(double(f));
      else packed(f.bytes, (view, at) => view.getFloat64(at, true), explicitBounds);
    } else if (f.number === 9) attributes.push(f.bytes);
  }
  return { attributes: attributesFromProtobuf(attributes), timeUnixNano, count, sum, bucketCounts, explicitBounds };
}
