// The example's telemetry module on its own. What it does in the running example (kill -TERM, a
// real OTLP receiver, Node, Bun and Deno, both protocols, and that nothing of OpenTelemetry loads
// without the endpoint) is checked from outside in packages/conformance (example-telemetry.test.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FlushableLifecycle } from '@quiesce/opentelemetry';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ExampleConfigError } from './config.ts';
import { loadTelemetry, readTelemetrySettings, startTelemetry } from './telemetry.ts';

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
