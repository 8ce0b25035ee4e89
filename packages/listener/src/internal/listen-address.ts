import { ListenerOptionError } from '../errors.ts';

/** An address for `quiesce run` to bind. */
export interface ListenAddressSpec {
  readonly host: string;
  readonly port: number;
  readonly name: string;
}

const NAME = /^[A-Za-z0-9._@-]{1,255}$/;

/**
 * Parses `[NAME=]HOST:PORT`: `127.0.0.1:8080`, `[::1]:8080`, `:8080` or `8080` (every IPv4
 * address), `web=0.0.0.0:80`. Throws {@link ListenerOptionError} naming `option`.
 */
export function parseListenAddress(option: string, text: string, index: number): ListenAddressSpec {
  const expected = '[NAME=]HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080, :8080 or web=0.0.0.0:80 (port 0 picks a free one)';
  if (typeof text !== 'string' || text === '') throw new ListenerOptionError(option, text, expected);
  let rest = text;
  let name = `listen-${index}`;
  const eq = rest.indexOf('=');
  if (eq >= 0) {
    name = rest.slice(0, eq);
    rest = rest.slice(eq + 1);
    if (!NAME.test(name)) throw new ListenerOptionError(option, text, `${expected}; NAME is letters, digits, ".", "_", "-" or "@"`);
  }
  let host = '0.0.0.0';
  let portText = rest;
  const bracket = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(rest);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2]!;
  } else if (rest.includes(':')) {
    const colon = rest.lastIndexOf(':');
    host = rest.slice(0, colon) || '0.0.0.0';
    portText = rest.slice(colon + 1);
    if (host.includes(':')) throw new ListenerOptionError(option, text, `${expected}; put an IPv6 address in brackets`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new ListenerOptionError(option, text, expected);
  if (/[\s/]/.test(host)) throw new ListenerOptionError(option, text, expected);
  return { host, port: Number(portText), name };
}

/** Checks an object form `{ host, port, name? }`. */
export function checkListenAddress(option: string, value: unknown, index: number): ListenAddressSpec {
  if (typeof value === 'string') return parseListenAddress(option, value, index);
  const spec = value as { host?: unknown; port?: unknown; name?: unknown } | null;
  if (spec === null || typeof spec !== 'object') {
    throw new ListenerOptionError(option, value, '"HOST:PORT" or { host, port, name? }');
  }
  if (typeof spec.host !== 'string' || spec.host === '' || /[\s/]/.test(spec.host)) {
    throw new ListenerOptionError(`${option}.host`, spec.host, 'a host name or an IP address');
  }
  if (typeof spec.port !== 'number' || !Number.isInteger(spec.port) || spec.port < 0 || spec.port > 65535) {
    throw new ListenerOptionError(`${option}.port`, spec.port, 'a whole port number from 0 to 65535');
  }
  if (spec.name !== undefined && (typeof spec.name !== 'string' || !NAME.test(spec.name))) {
    throw new ListenerOptionError(`${option}.name`, spec.name, 'letters, digits, ".", "_", "-" or "@" (no ":")');
  }
  return { host: spec.host, port: spec.port, name: spec.name ?? `listen-${index}` };
}
