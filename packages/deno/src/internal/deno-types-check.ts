/**
 * Checked by `deno check` only (tsc has no Deno types): keeps the structural types in
 * `deno-types.ts` compatible with Deno's own in both directions that matter. A Deno upgrade that
 * breaks the fit fails `npm run typecheck`. Not imported by anything; emits no code.
 */
import type {
  DenoHttpServer,
  DenoNetAddr,
  DenoServeHandler,
  DenoServeHandlerInfo,
  DenoServeTcpOptions,
  DenoServeUnixOptions,
  DenoUnixAddr,
} from '../deno-types.ts';

type Assert<T extends true> = T;
type Fits<A, B> = [A] extends [B] ? true : false;

export type DenoTypesFit = [
  // What Deno gives us fits what we declare.
  Assert<Fits<Deno.HttpServer<Deno.NetAddr>, DenoHttpServer<DenoNetAddr>>>,
  Assert<Fits<Deno.HttpServer<Deno.UnixAddr>, DenoHttpServer<DenoUnixAddr>>>,
  Assert<Fits<Deno.ServeHandlerInfo<Deno.NetAddr>, DenoServeHandlerInfo<DenoNetAddr>>>,
  Assert<Fits<Deno.NetAddr, DenoNetAddr>>,
  Assert<Fits<Deno.UnixAddr, DenoUnixAddr>>,
  // What users give us fits what Deno.serve takes.
  Assert<Fits<DenoServeHandler<DenoNetAddr>, Deno.ServeHandler<Deno.NetAddr>>>,
  Assert<Fits<Omit<DenoServeTcpOptions, 'cert' | 'key' | 'path'>, Deno.ServeTcpOptions & Deno.ServeInit<Deno.NetAddr>>>,
  Assert<Fits<Omit<DenoServeUnixOptions, 'transport'>, Deno.ServeUnixOptions & Deno.ServeInit<Deno.UnixAddr>>>,
  // And a handler written against Deno's types is accepted by serveDeno.
  Assert<Fits<Deno.ServeHandler<Deno.NetAddr>, DenoServeHandler<DenoNetAddr>>>,
];
