// biome-ignore-all lint: names here are used by the snippet placed at the @snippet line.
// Context of fragments that use a lifecycle built with `createLifecycle` from `quiesce`.
import type { Lifecycle } from 'quiesce';

declare const lifecycle: Lifecycle;

// @snippet
