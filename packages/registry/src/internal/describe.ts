import { describeValue, redactSecrets } from '@quiesce/core';

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
