// biome-ignore-all lint: names here are used by the snippet placed at the @snippet line.
// Context of fragments that instrument a lifecycle: `adapter` is any server adapter.
import type { ServerAdapter } from 'quiesce';

declare const adapter: ServerAdapter;

// @snippet
