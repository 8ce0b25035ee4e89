/**
 * The few `Deno` types this package takes and returns, declared here rather than referenced from
 * Deno's global namespace: tsc (which builds the published declarations) has no Deno types, and
 * declarations that name `Deno.*` would not type-check for consumers outside Deno. Each one is
 * structurally compatible with Deno's own (checked by `deno check` in
 * `internal/deno-types-check.ts`), so a real `Deno.HttpServer` or handler fits where these are used.
 */

/** A TCP address (`Deno.NetAddr`). */
export interface DenoNetAddr {
  transport: 'tcp' | 'udp';
  hostname: string;
  port: number;
}

/** A unix socket address (`Deno.UnixAddr`). */
export interface DenoUnixAddr {
  transport: 'unix' | 'unixpacket';
  path: string;
}

/** The handler's second argument (`Deno.ServeHandlerInfo`). */
export interface DenoServeHandlerInfo<Addr = DenoNetAddr> {
  /** The client's address. */
  readonly remoteAddr: Addr;
  /** Settles once the response, body included, was delivered (or could not be). */
  readonly completed: Promise<void>;
}

/** A `Deno.serve` request handler (`Deno.ServeHandler`). */
export type DenoServeHandler<Addr = DenoNetAddr> = (request: Request, info: DenoServeHandlerInfo<Addr>) => Response | Promise<Response>;

/** Options every `Deno.serve` transport takes (`Deno.ServeOptions`). */
export interface DenoServeCommonOptions {
  /** Aborting it stops the server at once (the adapter's deadline does the same). */
  signal?: AbortSignal;
  /** Answers a request whose handler threw; default: log it and answer 500. */
  onError?: (error: unknown) => Response | Promise<Response>;
  automaticCompression?: boolean;
}

/** `Deno.serve` on TCP, with TLS when `cert` and `key` are given (`Deno.ServeTcpOptions & Deno.ServeInit`). */
export interface DenoServeTcpOptions extends DenoServeCommonOptions {
  handler: DenoServeHandler<DenoNetAddr>;
  transport?: 'tcp';
  /** Default 8000. */
  port?: number;
  /** Default `0.0.0.0`. */
  hostname?: string;
  /** Needs `--unstable-net`; the adapter refuses it without (Deno would exit with code 70). */
  reusePort?: boolean;
  tcpBacklog?: number;
  onListen?: (localAddr: DenoNetAddr) => void;
  /** PEM certificate chain, for HTTPS. */
  cert?: string;
  /** PEM private key, for HTTPS. */
  key?: string;
  path?: undefined;
}

/** `Deno.serve` on a unix socket (`Deno.ServeUnixOptions & Deno.ServeInit`). */
export interface DenoServeUnixOptions extends DenoServeCommonOptions {
  handler: DenoServeHandler<DenoUnixAddr>;
  transport?: 'unix';
  path: string;
  onListen?: (localAddr: DenoUnixAddr) => void;
}

/** What `serveDeno` takes: `Deno.serve`'s options object, with the handler in it. */
export type DenoServeOptions = DenoServeTcpOptions | DenoServeUnixOptions;

/** The running server (`Deno.HttpServer`). */
export interface DenoHttpServer<Addr = DenoNetAddr> {
  readonly addr: Addr;
  /** Resolves once the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  /** Stops accepting, closes idle connections, and resolves once in-flight requests are done. Never forces. */
  shutdown(): Promise<void>;
  ref(): void;
  unref(): void;
}
