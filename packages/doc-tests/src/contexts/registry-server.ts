// biome-ignore-all lint: names here are used by the snippet placed at the @snippet line.
// Context of fragments that register a node:http server from the environment.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registryFromEnv } from '@quiesce/registry';
import type { Lifecycle } from 'quiesce';

declare const lifecycle: Lifecycle;
const server = createServer();
const port = 3000;
const host = '127.0.0.1';

// @snippet
