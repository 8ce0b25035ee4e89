// biome-ignore-all lint: names here are used by the snippet placed at the @snippet line.
// Context of fragments that wire a registry into a lifecycle.
import type { ServiceRegistry } from '@quiesce/registry';
import type { Lifecycle } from 'quiesce';

declare const lifecycle: Lifecycle;
declare const registry: ServiceRegistry;

// @snippet
