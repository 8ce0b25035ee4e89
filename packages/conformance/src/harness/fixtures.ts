import { fixturesBeside } from '@quiesce/test-support';

/**
 * The absolute path of a server script in `packages/conformance/src/fixtures/`. Throws
 * `HarnessOptionError` naming the path if there is no such file.
 *
 * @example
 * ```ts
 * const server = await startServer({ runtime: 'bun', script: fixturePath('plain-server.mjs') });
 * ```
 */
export const fixturePath: (name: string) => string = fixturesBeside(new URL('../', import.meta.url).href);
