// biome-ignore-all lint: names here are used by the snippet placed at the @snippet line.
// Context of fragments that configure a signal policy: the import and a graceful handler.
import { type GracefulHandler, createSignalPolicy } from '@quiesce/signals';

declare const graceful: GracefulHandler;

// @snippet
