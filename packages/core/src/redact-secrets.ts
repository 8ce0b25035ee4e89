/** What a hidden secret reads as. */
const MASK = '***';
/** A parameter, variable or field name that holds a secret: `token`, `ETCD_PASSWORD`, `api_key`, `X-Consul-Token` … */
const SECRET_NAME = String.raw`[\w.-]*(?:token|passw(?:or)?d|pwd|secret|api[_-]?key|access[_-]?key|private[_-]?key|auth|credential|signature)[\w.-]*`;

const RULES: readonly [RegExp, string][] = [
  // scheme://user:password@host: the whole userinfo (up to the last @ before the path).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>]*@/gi, `$1${MASK}@`],
  // user:password@host without a scheme (an endpoint written without http://).
  [/(^|[\s"'(<,;=])[^\s/?#@"'<>:,;=]+:[^\s/?#"'<>,;]*@(?=[^\s@/])/g, `$1${MASK}@`],
  // ?token=… &password=… #access_token=…
  [new RegExp(String.raw`([?&#;]${SECRET_NAME}=)[^&#\s"'<>;]*`, 'gi'), `$1${MASK}`],
  // NAME=value (CONSUL_HTTP_TOKEN=…, ETCD_PASSWORD=…), quoted or not.
  [new RegExp(String.raw`(^|[^\w.?&#;-])(${SECRET_NAME})=("[^"]*"|'[^']*'|[^\s"'&,;]+)`, 'gi'), `$1$2=${MASK}`],
  // "password": "…" in JSON.
  [new RegExp(String.raw`("${SECRET_NAME}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi'), `$1"${MASK}"`],
  // Authorization: Bearer … / X-Consul-Token: … header lines.
  [/\b((?:proxy-)?authorization|x-[\w-]*token)(\s*:\s*)[^\r\n,;]+/gi, `$1$2${MASK}`],
  [/\b(Bearer|Basic)\s+[\w.~+/=-]+/g, `$1 ${MASK}`],
];

/**
 * `text` with the secrets a configured value can carry replaced by `***`: the userinfo of a URL
 * (`http://user:pass@host` → `http://***@host`, also without a scheme), secret query parameters
 * (`?token=…`), `NAME=value` pairs and JSON fields whose name says token, password, secret, key or
 * auth, and `Authorization` / `X-…-Token` header values. For every error message and log line that
 * shows a value from the environment or from options. Never throws; non-secret text is unchanged.
 *
 * @example
 * ```ts
 * redactSecrets('http://root:hunter2@10.0.0.5:2379'); // 'http://***@10.0.0.5:2379'
 * ```
 */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A configured value with {@link redactSecrets} applied to it (strings, and strings in arrays); other
 * values, and arrays with nothing secret in them, as they are (the same object).
 *
 * @example
 * ```ts
 * redactValue(['http://a:b@host:2379']); // ['http://***@host:2379']
 * ```
 */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (!Array.isArray(value)) return value;
  const redacted = value.map((item: unknown) => (typeof item === 'string' ? redactSecrets(item) : item));
  // The same array when nothing was secret: callers may compare it with what they passed.
  return (redacted.every((item, i) => item === value[i]) ? value : redacted) as T;
}
