/**
 * Whether `request` came over HTTP/2 (`Deno.serve` speaks it over TLS by ALPN, and over cleartext to
 * clients that start with its preface). Deno hands an HTTP/2 request no `Host` header (its authority
 * is the `:authority` pseudo-header), while HTTP/1.1 requires one (RFC 9112 §3.2): a request without
 * it is taken for HTTP/2. An HTTP/1.0 request without `Host` is taken for one too; that only lets
 * its response go out before the listener closes rather than after.
 *
 * Why the adapter cares (Deno 2.9, measured): `shutdown()` sends each HTTP/2 session the graceful
 * two-step GOAWAY (2^31−1, PING, then the last stream id) and serves its streams to the end, unless
 * the client answers with a GOAWAY of its own, as Node's `http2` client does whenever it receives
 * one: then Deno closes the connection at once, streams in flight included, and still resolves
 * their `info.completed`. So these responses must be out before `shutdown()`; see
 * `isHttp2` in `@quiesce/drain`'s fetch adapter. Only asked during shutdown.
 */
export function isHttp2Request(request: Request): boolean {
  return !request.headers.has('host');
}
