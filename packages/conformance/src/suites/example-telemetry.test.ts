import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  type Runtime,
  capabilities,
  killAllChildren,
  processState,
  runtimeBinary,
  sleep,
  startChild,
  startOtlpReceiver,
} from '@quiesce/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openConnection } from '../harness/index.ts';
import { fixturePath } from '../harness/fixtures.ts';
import { starter } from './scenarios.ts';
import { exampleTargets } from './targets.ts';

// The example's OpenTelemetry export, checked from outside: `kill -TERM` of the example with
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at a real OTLP/HTTP receiver on loopback, once per runtime
// and protocol. The official exporters send; the receiver must hold the shutdown's span tree and
// metrics while the example still runs (its flush waits for the answer), so before it exits.

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

const PROTOCOLS = ['http/protobuf', 'http/json'] as const;

/** The phases a shutdown of the example runs, as child spans of `quiesce.shutdown`. */
const PHASE_SPANS = ['quiesce.cleanup', 'quiesce.deregister', 'quiesce.drain', 'quiesce.lame-duck', 'quiesce.stop-accepting'];

/** A module of OpenTelemetry or of `@quiesce/opentelemetry`, by its resolved path or URL. */
const OPENTELEMETRY_MODULE = /[\\/]node_modules[\\/]@opentelemetry[\\/]|[\\/]packages[\\/]opentelemetry[\\/]dist[\\/]/;

describe.each(exampleTargets)('OpenTelemetry export of the example on $label', ({ runtime, script }) => {
  const start = starter({ runtime, script });
  const can = capabilities(runtime);
  let receiver: OtlpReceiver;
  /** The example under test, and whether it was still running at each request the receiver got from it. */
  let sender: number | undefined;
  const senderRunning: boolean[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver({
      onRequest: () => {
        if (sender === undefined) return;
        const state = processState(sender);
        senderRunning.push(state !== undefined && state !== 'Z');
      },
    });
  });
  afterAll(() => receiver?.close());

  it.each(PROTOCOLS)(
    'after kill -TERM with %s, the receiver holds the quiesce.shutdown span, its phases with their counts, and the metrics, before the process exits',
    async (protocol) => {
      const before = { spans: receiver.spans.length, metrics: receiver.metrics.length, requests: receiver.requests.length };
      const service = `example-${runtime}-${protocol.replace('/', '-')}`;
      senderRunning.length = 0;
      const server = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: service });
      sender = server.pid;
      // Something to count: a keep-alive socket left idle, and a request in flight at the signal.
      const idle = await openConnection(server.port);
      await idle.request({ path: '/' });
      const conn = await openConnection(server.port);
      const inFlight = conn.request({ path: '/slow?ms=800' });
      await sleep(300);
      server.kill('SIGTERM');
      expect((await inFlight).headers['connection']).toBe('close');
      const exit = await server.exited;
      sender = undefined;
      expect(exit.code).toBe(0);
      expect(server.stdout.join('\n')).toMatch(/quiesce: shutdown clean .*requests 1 completed, 0 cut/);
      expect(server.stderr.join('\n')).toBe('');

      // Received while the example ran: the flush is the shutdown's last step, inside the deadline.
      const requests = receiver.requests.slice(before.requests);
      expect(new Set(requests.map((r) => `${r.path} ${r.protocol}`))).toEqual(new Set([`/v1/traces ${protocol}`, `/v1/metrics ${protocol}`]));
      expect(senderRunning).toHaveLength(requests.length);
      expect(senderRunning.every(Boolean)).toBe(true);
      expect(receiver.rejected).toEqual([]);

      const spans = receiver.spans.slice(before.spans);
      const roots = spans.filter((span) => span.name === 'quiesce.shutdown');
      expect(roots).toHaveLength(1);
      const root = roots[0]!;
      expect(root.parentSpanId).toBe('');
      expect(root.resource).toMatchObject({
        'service.name': service,
        'process.pid': server.pid,
        'process.runtime.name': runtime === 'node' ? 'nodejs' : runtime,
      });
      expect(root.attributes).toMatchObject({
        'quiesce.shutdown.reason': 'SIGTERM',
        'quiesce.shutdown.kind': 'shutdown',
        'quiesce.adapter': runtime,
        'quiesce.shutdown.outcome': 'clean',
        'quiesce.shutdown.exit_code': 0,
        'quiesce.shutdown.deadline_hit': false,
        'quiesce.drain.requests_completed': 1,
        'quiesce.drain.requests_cut': 0,
      });
      const children = spans.filter((span) => span.parentSpanId === root.spanId);
      expect(children.map((span) => span.name).sort()).toEqual(PHASE_SPANS);
      // One trace. (Span times are not compared: the SDK's clocks of a span and its parent may differ by microseconds.)
      for (const child of children) expect(child.traceId).toBe(root.traceId);
      const drain = spanNamed(children, 'quiesce.drain');
      expect(drain.attributes).toMatchObject({
        'quiesce.drain.outcome': 'drained',
        'quiesce.drain.in_flight_at_start': 1,
        'quiesce.drain.requests_completed': 1,
        'quiesce.drain.requests_cut': 0,
        'quiesce.drain.force_closed': 0,
      });
      if (can.reportsSocketCounts) {
        // Only Node hands connections to the drain: the idle socket closed idle, the other after its response.
        expect(drain.attributes['quiesce.drain.idle_closed']).toBe(1);
        expect(root.attributes).toMatchObject({ 'quiesce.connections.closed.idle': 1, 'quiesce.connections.closed.response-last': 1, 'quiesce.connections.closed.forced': 0 });
      }

      const metrics = receiver.metrics.slice(before.metrics);
      const metric = (name: string) => metrics.find((m) => m.name === name);
      expect(metric('quiesce.shutdown.duration')).toMatchObject({ type: 'histogram', unit: 's' });
      expect(metric('quiesce.shutdown.duration')!.points).toEqual([
        expect.objectContaining({ count: 1, attributes: { 'quiesce.shutdown.outcome': 'clean', 'quiesce.shutdown.kind': 'shutdown' } }),
      ]);
      const phases = metric('quiesce.shutdown.phase.duration')!.points.map((point) => `quiesce.${point.attributes['quiesce.phase']}`);
      expect(phases.sort()).toEqual(PHASE_SPANS);
      for (const point of metrics.flatMap((m) => m.points)) expect(point.timeUnixNano).toBeGreaterThan(0n);
      expect(metrics.every((m) => m.resource['service.name'] === service)).toBe(true);
      if (can.reportsSocketCounts) {
        const closed = metric('quiesce.drain.connections.closed')!.points.map((p) => [p.attributes['quiesce.connection.closed_by'], p.value]);
        expect(closed.sort()).toEqual([
          ['idle', 1],
          ['response-last', 1],
        ]);
      }
    },
    60_000,
  );

  it('without OTEL_EXPORTER_OTLP_ENDPOINT it loads no module of OpenTelemetry and exports nothing; with it, the same watch sees them load', async () => {
    const requests = receiver.requests.length;
    const off = await modulesLoaded(runtime, script, { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: 'ignored' });
    expect(off.exit).toBe(0);
    expect(off.modules.some((module) => /[\\/]apps[\\/]example[\\/]/.test(module))).toBe(true);
    expect(off.modules.filter((module) => OPENTELEMETRY_MODULE.test(module))).toEqual([]);
    expect(receiver.requests.length).toBe(requests);

    // The control: the watch does see OpenTelemetry when the example loads it.
    const on = await modulesLoaded(runtime, script, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'control' });
    expect(on.exit).toBe(0);
    expect(on.modules.filter((module) => OPENTELEMETRY_MODULE.test(module)).length).toBeGreaterThan(0);
  }, 60_000);

  it('an OTEL_EXPORTER_OTLP_PROTOCOL it cannot export with exits 2 naming the variable, before it listens', async () => {
    const failure = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).then(
      () => undefined,
      (error: unknown) => error as { reason?: string; code?: number; stderr?: string[] },
    );
    expect(failure?.reason).toBe('exited');
    expect((failure?.stderr ?? []).join('\n')).toContain('quiesce-example: OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is invalid: expected http/protobuf or http/json.');
  }, 30_000);
});

function spanNamed(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.find((span) => span.name === name);
  if (!found) throw new Error(`no span ${name} among ${spans.map((span) => span.name).join(', ')}`);
  return found;
}

/**
 * Runs the example on `runtime` under a watch of the modules it loads, sends it SIGTERM once it
 * listens, and returns every module it loaded (paths or URLs) and its exit code. Node: a resolve
 * hook (`--import`); Bun: `require.cache` at exit (it holds ES modules too; `--preload`); Deno: the
 * modules its debug log says it fetched or compiled (`--log-level=debug`).
 */
async function modulesLoaded(runtime: Runtime, script: string, env: Record<string, string>): Promise<{ modules: string[]; exit: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-modules-'));
  const log = join(dir, 'modules.log');
  try {
    const binary = runtimeBinary(runtime);
    const argv =
      runtime === 'node'
        ? [binary, '--import', fixturePath('node-module-log.mjs'), script]
        : runtime === 'bun'
          ? [binary, '--preload', fixturePath('bun-module-log.ts'), script]
          : [binary, 'run', '-A', '--log-level=debug', script];
    const child = startChild(argv, { env: { PORT: '0', HOST: '127.0.0.1', MODULE_LOG: log, DENO_NO_UPDATE_CHECK: '1', ...env } });
    await child.waitForLine(/listening on http:\/\//);
    child.kill('SIGTERM');
    const exit = await child.exited;
    const modules =
      runtime === 'deno'
        ? child.stderr.flatMap((line) => /\bfile:\/\/\S+/.exec(line)?.[0] ?? []).map((url) => url.replace(/,$/, ''))
        : readFileSync(log, 'utf8').split('\n').filter(Boolean);
    return { modules, exit: exit.code };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
