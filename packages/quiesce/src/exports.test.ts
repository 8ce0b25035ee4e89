import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as bun from './bun.ts';
import * as deno from './deno.ts';
import * as api from './index.ts';
import * as listener from './listener.ts';
import * as node from './node.ts';
import * as testing from './testing.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Each subpath of `quiesce`: its source file and the packages it re-exports. */
const subpaths = {
  '.': { file: 'index.ts', packages: ['@quiesce/core', '@quiesce/drain', '@quiesce/hooks', '@quiesce/registry', '@quiesce/signals'] },
  './node': { file: 'node.ts', packages: ['@quiesce/node'] },
  './bun': { file: 'bun.ts', packages: ['@quiesce/bun'] },
  './deno': { file: 'deno.ts', packages: ['@quiesce/deno'] },
  './listener': { file: 'listener.ts', packages: ['@quiesce/listener'] },
  './testing': { file: 'testing.ts', packages: ['@quiesce/core/testing'] },
} as const;

/**
 * Exports of a re-exported package that `quiesce` leaves out on purpose, as `package:name` → why.
 * Everything else a package exports (values and types) must be exported by its subpath.
 */
const notReExported: Record<string, string> = {};

/** The names (values and types) each module exports, read by the TypeScript checker. */
function exportedNames(files: readonly string[]): Map<string, string[]> {
  const program = ts.createProgram([...files], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const names = new Map<string, string[]>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    const symbol = source && checker.getSymbolAtLocation(source);
    if (!symbol) throw new Error(`TypeScript could not read ${file}`);
    names.set(file, checker.getExportsOfModule(symbol).map((s) => s.name));
  }
  return names;
}

/** The declaration file a package specifier resolves to from `quiesce`'s sources (its build). */
function declarationsOf(specifier: string): string {
  const from = fileURLToPath(new URL('index.ts', import.meta.url));
  const { resolvedModule } = ts.resolveModuleName(specifier, from, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }, ts.sys);
  if (!resolvedModule) throw new Error(`cannot resolve ${specifier}: build the packages first (npm run build)`);
  return resolvedModule.resolvedFileName;
}

describe('quiesce public API', () => {
  it('exports exactly these names (a change here is a change to the public API)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "ConnectionTracker",
        "Deadline",
        "DeadlineExceededError",
        "DrainOptionError",
        "DrainStartedError",
        "HookTimeoutError",
        "HooksOptionError",
        "HooksStateError",
        "ImmediateStopError",
        "InvalidOptionError",
        "LifecycleOptionError",
        "REFUSED_UPGRADE_HTTP",
        "REFUSED_UPGRADE_RETRY_AFTER_S",
        "RegistryEnvError",
        "RegistryOptionError",
        "RegistryRequestError",
        "RegistryStateError",
        "RegistryTimeoutError",
        "RegistryUnavailableError",
        "ResponseGate",
        "SignalsHandlerError",
        "SignalsOptionError",
        "SignalsRuntimeError",
        "WEBSOCKET_GOING_AWAY",
        "WEBSOCKET_SERVICE_RESTART",
        "WebSocketFarewell",
        "createConsulRegistry",
        "createEtcdRegistry",
        "createFetchAdapter",
        "createLifecycle",
        "createShutdownHooks",
        "createSignalPolicy",
        "defaultExitCodes",
        "defaultSignalIntents",
        "describeError",
        "describeValue",
        "envReadPermitted",
        "eventChannel",
        "exitCodeFor",
        "formatShutdownReport",
        "formatShutdownReportJson",
        "isSignalName",
        "isUpgradeRequest",
        "lameDuck",
        "optionChecks",
        "quiesceChannels",
        "redactSecrets",
        "redactValue",
        "refusedUpgradeResponse",
        "registryFromEnv",
        "runtimePermits",
        "shutdownReportJson",
        "signalNumber",
        "systemClock",
        "webSocketCloseCode",
        "withConnectionClose",
      ]
    `);
  });

  it('quiesce/node exports exactly these names', () => {
    expect(Object.keys(node).sort()).toMatchInlineSnapshot(`
      [
        "NodeAdapterOptionError",
        "createFetchListener",
        "createNodeAdapter",
      ]
    `);
  });

  it('quiesce/bun exports exactly these names', () => {
    expect(Object.keys(bun).sort()).toMatchInlineSnapshot(`
      [
        "BunAdapterOptionError",
        "BunRuntimeError",
        "BunUnsupportedOptionError",
        "serveBun",
      ]
    `);
  });

  it('quiesce/deno exports exactly these names', () => {
    expect(Object.keys(deno).sort()).toMatchInlineSnapshot(`
      [
        "DenoAdapterOptionError",
        "DenoRuntimeError",
        "DenoUnsupportedOptionError",
        "DenoWebSocketUnsupportedError",
        "serveDeno",
        "upgradeWebSocket",
      ]
    `);
  });

  it('quiesce/listener exports exactly these names', () => {
    expect(Object.keys(listener).sort()).toMatchInlineSnapshot(`
      [
        "AddressInUseError",
        "CLI_USAGE",
        "HotRestartError",
        "InheritedSocketError",
        "ListenerOptionError",
        "PID_ONE_WARNING",
        "ReusePortUnsupportedError",
        "SupervisorError",
        "acquire",
        "asAddressInUseError",
        "createServiceNotifier",
        "diagnosePort",
        "formatPortDiagnosis",
        "hotRestart",
        "inheritedListeners",
        "listenForStopRequests",
        "reportReady",
        "runCli",
        "runSupervisor",
        "warnIfPidOne",
      ]
    `);
  });

  it('quiesce/testing exports exactly these names', () => {
    expect(Object.keys(testing).sort()).toMatchInlineSnapshot(`
      [
        "ManualClock",
      ]
    `);
  });

  it('re-exports every export (value and type) of each package it is made of, or says why not', () => {
    const entries = Object.values(subpaths).map(({ file }) => fileURLToPath(new URL(file, import.meta.url)));
    const packages = Object.values(subpaths).flatMap(({ packages }) => packages.map((name) => [name, declarationsOf(name)] as const));
    const names = exportedNames([...entries, ...packages.map(([, file]) => file)]);

    const missing: string[] = [];
    const listedButExported: string[] = [];
    for (const [subpath, { file, packages: from }] of Object.entries(subpaths)) {
      const own = new Set(names.get(fileURLToPath(new URL(file, import.meta.url))));
      for (const name of from) {
        for (const exported of names.get(declarationsOf(name)) ?? []) {
          const key = `${name}:${exported}`;
          if (key in notReExported) {
            if (own.has(exported)) listedButExported.push(key);
          } else if (!own.has(exported)) {
            missing.push(`${exported} (from ${name}) in quiesce${subpath === '.' ? '' : subpath.slice(1)}`);
          }
        }
      }
    }
    const known = new Set(packages.flatMap(([name, file]) => (names.get(file) ?? []).map((exported) => `${name}:${exported}`)));
    const stale = Object.keys(notReExported).filter((key) => !known.has(key));

    expect(missing, 'export these, or list them in notReExported with the reason').toEqual([]);
    expect(listedButExported, 'listed as not re-exported, but they are').toEqual([]);
    expect(stale, 'listed as not re-exported, but no package exports them any more').toEqual([]);
  });

  it('every subpath resolves through package.json exports from the build, as an app imports it', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(manifest.exports).filter((key) => key !== './package.json').sort()).toEqual(Object.keys(subpaths).sort());

    // A real Node process importing `quiesce/bun` by name, as an application does (issue: "quiesce/bun"
    // was documented but ERR_PACKAGE_PATH_NOT_EXPORTED).
    const script = `
      const names = {};
      for (const subpath of ${JSON.stringify(Object.keys(subpaths))}) {
        names[subpath] = Object.keys(await import(subpath === '.' ? 'quiesce' : 'quiesce' + subpath.slice(1))).sort();
      }
      console.log(JSON.stringify(names));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8' });
    const fromSource = { '.': api, './node': node, './bun': bun, './deno': deno, './listener': listener, './testing': testing };

    expect(JSON.parse(output)).toEqual(Object.fromEntries(Object.entries(fromSource).map(([subpath, module]) => [subpath, Object.keys(module).sort()])));
  });
});
