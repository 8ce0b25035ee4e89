import { redactSecrets } from './redact-secrets.ts';

/** Describes a value for an error message without throwing on odd inputs; secrets in it are redacted. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(redactSecrets(value));
  // JSON.stringify would print NaN and Infinity as "null".
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value !== null && typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    if (name && name !== 'Object' && name !== 'Array') return `a ${name} instance`;
  }
  try {
    return redactSecrets(JSON.stringify(value) ?? String(value));
  } catch {
    return redactSecrets(String(value));
  }
}

/** One line for an error or abort reason, with the root cause of a `fetch failed`; secrets in it are redacted. */
export function describeReason(reason: unknown): string {
  if (reason instanceof Error) {
    // undici says only "fetch failed"; the reason (ECONNREFUSED, a reset, a DNS error) is in `cause`.
    const root = reason.message === 'fetch failed' && reason.cause instanceof Error ? reason.cause : undefined;
    const code = (root as { code?: unknown } | undefined)?.code;
    const cause = root ? ` (${root.message || (typeof code === 'string' ? code : root.name)})` : '';
    return redactSecrets(`${reason.message}${cause}`);
  }
  return reason === undefined ? 'aborted' : describeValue(reason);
}
