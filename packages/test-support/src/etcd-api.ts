// Direct calls to etcd's own v3 JSON API, for the tests to check what the registry did (range,
// lease timetolive) and to do things to it (revoke a lease, enable authentication). Written
// independently of the package's client so that the tests do not check the client with itself.

/** POSTs a JSON body to etcd and returns the parsed answer; throws on an error answer. */
export async function etcdPost(endpoint: string, path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['authorization'] = token;
  const response = await fetch(`${endpoint}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const json = JSON.parse(text.split('\n')[0] ?? '') as Record<string, unknown>;
  if (!response.ok || json['error'] !== undefined) throw new Error(`etcd ${path} failed: HTTP ${response.status} ${text}`);
  return json;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

/** One key as etcd has it: its value (decoded) and the lease it is attached to ("0" for none). */
export interface EtcdKey {
  readonly value: string;
  readonly lease: string;
}

/** Reads one key; `undefined` when it does not exist. */
export async function getKey(endpoint: string, key: string, token?: string): Promise<EtcdKey | undefined> {
  const answer = await etcdPost(endpoint, '/v3/kv/range', { key: b64(key) }, token);
  const kvs = answer['kvs'] as { value?: string; lease?: string }[] | undefined;
  const kv = kvs?.[0];
  if (!kv) return undefined;
  return { value: unb64(kv.value ?? ''), lease: kv.lease ?? '0' };
}

/** Every key under `prefix`. */
export async function keysWithPrefix(endpoint: string, prefix: string, token?: string): Promise<string[]> {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const answer = await etcdPost(endpoint, '/v3/kv/range', { key: b64(prefix), range_end: b64(end), keys_only: true }, token);
  const kvs = (answer['kvs'] as { key: string }[] | undefined) ?? [];
  return kvs.map((kv) => unb64(kv.key));
}

/** A lease's remaining TTL (−1 when it does not exist), granted TTL and attached keys. */
export async function leaseTimeToLive(
  endpoint: string,
  lease: string,
  token?: string,
): Promise<{ ttl: number; grantedTtl: number; keys: string[] }> {
  const answer = await etcdPost(endpoint, '/v3/lease/timetolive', { ID: lease, keys: true }, token);
  return {
    ttl: Number(answer['TTL'] ?? 0),
    grantedTtl: Number(answer['grantedTTL'] ?? 0),
    keys: ((answer['keys'] as string[] | undefined) ?? []).map(unb64),
  };
}

/** Revokes a lease, as an operator or a failing cluster would, deleting its keys. */
export async function revokeLease(endpoint: string, lease: string, token?: string): Promise<void> {
  await etcdPost(endpoint, '/v3/lease/revoke', { ID: lease }, token);
}

/** Authenticates and returns the token. */
export async function authenticate(endpoint: string, name: string, password: string): Promise<string> {
  const answer = await etcdPost(endpoint, '/v3/auth/authenticate', { name, password });
  return answer['token'] as string;
}

/**
 * Turns on authentication the way `etcdctl` does: a `root` user with the `root` role, then a
 * service user whose role may read and write keys under `prefix` only, then `auth enable`.
 */
export async function enableAuth(
  endpoint: string,
  users: { rootPassword: string; user: string; password: string; prefix: string },
): Promise<void> {
  const { rootPassword, user, password, prefix } = users;
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  await etcdPost(endpoint, '/v3/auth/user/add', { name: 'root', password: rootPassword });
  await etcdPost(endpoint, '/v3/auth/role/add', { name: 'root' });
  await etcdPost(endpoint, '/v3/auth/user/grant', { user: 'root', role: 'root' });
  await etcdPost(endpoint, '/v3/auth/role/add', { name: 'services' });
  await etcdPost(endpoint, '/v3/auth/role/grant', {
    name: 'services',
    perm: { permType: 'READWRITE', key: b64(prefix), range_end: b64(end) },
  });
  await etcdPost(endpoint, '/v3/auth/user/add', { name: user, password });
  await etcdPost(endpoint, '/v3/auth/user/grant', { user, role: 'services' });
  await etcdPost(endpoint, '/v3/auth/enable', {});
}

/** Polls `check` every 25 ms until it returns true or `ms` pass; returns the time it took, or undefined. */
export async function waitFor(check: () => Promise<boolean>, ms: number): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await check()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return (await check()) ? performance.now() - started : undefined;
}
