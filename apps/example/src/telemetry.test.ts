import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FlushableLifecycle } from '@quiesce/opentelemetry';
import { build } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Until the shared test-support package exists, the receiver lives beside @quiesce/opentelemetry's tests.
import { type OtlpReceiver, startOtlpReceiver } from '../../../packages/opentelemetry/src/test-support/otlp-receiver.ts';
import { ExampleConfigError } from './config.ts';
import { loadTelemetry, readTelemetrySettings, startTelemetry } from './telemetry.ts';

const run = promisify(execFile);
const appDir = fileURLToPath(new URL('../', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/telemetry-fixture.ts', import.meta.url));
const bundledFixture = join(appDir, 'dist', 'telemetry-fixture.mjs');

describe('readTelemetrySettings', () => {
  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT, with an empty one, and with OTEL_SDK_DISABLED=true', () => {
    expect(readTelemetrySettings({})).toBeUndefined();
    expect(readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBeUndefined();
    expect(readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
  });

  it('defaults to http/protobuf and the service name quiesce-example, as the OpenTelemetry SDKs do', () => {
    expect(readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({
      endpoint: 'http://127.0.0.1:4318',
      protocol: 'http/protobuf',
      serviceName: 'quiesce-example',
    });
    expect(
      readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.internal', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'checkout' }),
    ).toEqual({ endpoint: 'https://otel.internal', protocol: 'http/json', serviceName: 'checkout' });
  });

  it('takes the traces protocol over the general one', () => {
    const settings = readTelemetrySettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    });
    expect(settings?.protocol).toBe('http/json');
  });

  it('refuses grpc and a non-URL endpoint with ExampleConfigError naming the variable', () => {
    const endpoint = 'http://127.0.0.1:4317';
    expect(() => readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      new ExampleConfigError('OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', 'http/protobuf or http/json'),
    );
    expect(() => readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4318' })).toThrow(/^OTEL_EXPORTER_OTLP_ENDPOINT="127.0.0.1:4318" is invalid/);
  });
});

describe('the example loads OpenTelemetry only when asked to', () => {
  it('telemetry.ts imports nothing of OpenTelemetry at load time: every such import is type-only', () => {
    const path = fileURLToPath(new URL('./telemetry.ts', import.meta.url));
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022);
    const runtimeImports = source.statements
      .filter(ts.isImportDeclaration)
      .filter((node) => !node.importClause?.isTypeOnly)
      .map((node) => (node.moduleSpecifier as ts.StringLiteral).text);
    expect(runtimeImports).toEqual(['./config.ts']);
  });

  it('without the endpoint, startTelemetry does nothing', async () => {
    const lifecycle: FlushableLifecycle = { onFlush: () => expect.unreachable('no flush step without telemetry') };
    expect(await startTelemetry(lifecycle, { OTEL_SERVICE_NAME: 'x' })).toBeUndefined();
  });

  it.each([
    ['http/protobuf', 'proto'],
    ['http/json', 'http'],
  ] as const)('for %s it loads the SDK, the official %s exporters and @quiesce/opentelemetry, and registers one flush step', async (protocol, kind) => {
    const loaded: string[] = [];
    const steps: string[] = [];
    const telemetry = await loadTelemetry(
      { onFlush: (name) => steps.push(name) },
      { endpoint: 'http://127.0.0.1:9', protocol, serviceName: 'test' },
      (specifier) => {
        loaded.push(specifier);
        return import(specifier);
      },
    );
    await telemetry.shutdown();
    expect(loaded.sort()).toEqual(
      [
        '@opentelemetry/resources',
        '@opentelemetry/sdk-metrics',
        '@opentelemetry/sdk-trace-base',
        `@opentelemetry/exporter-metrics-otlp-${kind}`,
        `@opentelemetry/exporter-trace-otlp-${kind}`,
        '@quiesce/opentelemetry',
      ].sort(),
    );
    expect(steps).toEqual(['opentelemetry']);
  });

  it('names the missing package when one cannot be loaded', async () => {
    const missing = loadTelemetry({ onFlush: () => {} }, { endpoint: 'http://127.0.0.1:9', protocol: 'http/json', serviceName: 'test' }, (specifier) =>
      specifier.includes('sdk-metrics') ? Promise.reject(new Error('Cannot find package')) : import(specifier),
    );
    await expect(missing).rejects.toThrow('OTEL_EXPORTER_OTLP_ENDPOINT is set but @opentelemetry/sdk-metrics cannot be loaded');
  });
});

const runtimes = [
  { name: 'node', command: process.execPath, args: () => [bundledFixture] },
  { name: 'bun', command: join(repoRoot, 'node_modules', '.bin', 'bun'), args: () => [fixture] },
  { name: 'deno', command: join(repoRoot, 'node_modules', '.bin', 'deno'), args: () => ['run', '-A', '--quiet', fixture] },
] as const;

async function runFixture(runtime: (typeof runtimes)[number], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(runtime.command, runtime.args(), {
      cwd: appDir,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe.each(runtimes)('OTLP export on $name (real exporters, a real receiver on loopback)', (runtime) => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    if (runtime.name === 'node') {
      mkdirSync(join(appDir, 'dist'), { recursive: true });
      await build({ entryPoints: [fixture], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: bundledFixture, logLevel: 'error' });
    }
    receiver = await startOtlpReceiver();
  }, 60_000);
  afterAll(() => receiver?.close());

  it.each(['http/protobuf', 'http/json'] as const)(
    'with %s, the receiver holds the quiesce.shutdown span, its phases with their counts, and the metrics before the process exits',
    async (protocol) => {
      const before = { spans: receiver.spans.length, metrics: receiver.metrics.length };
      const service = `example-${runtime.name}-${protocol.replace('/', '-')}`;
      const result = await runFixture(runtime, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: service });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim().split('\n')).toEqual([`telemetry ${protocol} ${service}`, 'flush ok']);
      expect(result.code).toBe(0);
      // Exported by the flush, before the exit: no waiting here.
      const spans = receiver.spans.slice(before.spans);
      const metrics = receiver.metrics.slice(before.metrics);
      const root = spans.find((span) => span.name === 'quiesce.shutdown');
      expect(root?.resource).toMatchObject({ 'service.name': service, 'process.runtime.name': runtime.name === 'node' ? 'nodejs' : runtime.name });
      const phases = spans.filter((span) => span.parentSpanId === root!.spanId).map((span) => span.name);
      expect(phases.sort()).toEqual(['quiesce.cleanup', 'quiesce.deregister', 'quiesce.drain', 'quiesce.lame-duck', 'quiesce.stop-accepting']);
      expect(spans.find((span) => span.name === 'quiesce.drain')!.attributes).toMatchObject({ 'quiesce.drain.requests_completed': 1, 'quiesce.drain.idle_closed': 2 });
      expect(root!.attributes).toMatchObject({ 'quiesce.shutdown.outcome': 'clean', 'quiesce.shutdown.exit_code': 0 });
      expect(metrics.map((metric) => metric.name)).toEqual(expect.arrayContaining(['quiesce.shutdown.duration', 'quiesce.drain.connections.closed', 'quiesce.deregistrations']));
      expect(new Set(receiver.requests.slice(-2).map((r) => r.protocol))).toEqual(new Set([protocol]));
    },
    90_000,
  );

  it('without OTEL_EXPORTER_OTLP_ENDPOINT it exports nothing', async () => {
    const requests = receiver.requests.length;
    const result = await runFixture(runtime, { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: 'ignored' });
    expect([result.code, result.stdout.trim()]).toEqual([0, 'telemetry off']);
    expect(receiver.requests.length).toBe(requests);
  }, 60_000);

  it('an unsupported protocol exits 2 naming the variable, as every example setting does', async () => {
    const result = await runFixture(runtime, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('quiesce-example: OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is invalid: expected http/protobuf or http/json.');
  }, 60_000);
});
