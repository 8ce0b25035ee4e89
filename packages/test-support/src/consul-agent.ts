// A stand-in for the Consul agent's HTTP API, on node:http at 127.0.0.1: it records every request
// and enforces the documented request shapes (method, path, JSON body fields, X-Consul-Token).
// There is no Consul binary here; this checks our requests, not Consul's behaviour.
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Decoded path, e.g. `/v1/agent/check/pass/service:api:127.0.0.1:3000`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
  readonly at: number;
}

interface Check {
  readonly serviceId: string;
  readonly ttlMs: number;
  status: string;
  lastUpdate: number;
  notes: string[];
}

const REGISTER_FIELDS = new Set([
  'ID', 'Name', 'Tags', 'Address', 'TaggedAddresses', 'Meta', 'Port', 'Kind', 'Proxy', 'Connect',
  'Check', 'Checks', 'EnableTagOverride', 'Weights', 'Namespace', 'Partition', 'SocketPath',
]);
const CHECK_FIELDS = new Set([
  'CheckID', 'Name', 'Notes', 'TTL', 'Status', 'DeregisterCriticalServiceAfter', 'Interval', 'Timeout',
  'HTTP', 'TCP', 'GRPC', 'Args', 'SuccessBeforePassing', 'FailuresBeforeCritical', 'FailuresBeforeWarning',
]);
const DURATION = /^\d+(\.\d+)?(ns|us|µs|ms|s|m|h)$/;

export class FakeConsulAgent {
  readonly requests: RecordedRequest[] = [];
  /** Requests that broke the documented shape (the agent answered them 400/404/405). */
  readonly violations: string[] = [];
  readonly services: Map<string, Record<string, unknown>> = new Map();
  readonly checks: Map<string, Check> = new Map();
  /** `hang`: accept requests and never answer. */
  mode: 'ok' | 'hang' = 'ok';
  readonly #server: Server;
  readonly #token: string | undefined;
  readonly #sockets = new Set<Socket>();
  #url = '';

  private constructor(token: string | undefined) {
    this.#token = token;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: { token?: string } = {}): Promise<FakeConsulAgent> {
    const agent = new FakeConsulAgent(options.token);
    agent.#server.listen(0, '127.0.0.1');
    await once(agent.#server, 'listening');
    agent.#url = `http://127.0.0.1:${(agent.#server.address() as AddressInfo).port}`;
    return agent;
  }

  get url(): string {
    return this.#url;
  }

  /** What a TTL check's status is now: `critical` once its TTL passed without an update. */
  checkStatus(checkId: string): string | undefined {
    const check = this.checks.get(checkId);
    if (!check) return undefined;
    return Date.now() - check.lastUpdate > check.ttlMs ? 'critical' : check.status;
  }

  /** Forgets every service and check, as an agent restarted without persisted state would. */
  forget(): void {
    this.services.clear();
    this.checks.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://agent');
    const path = decodeURIComponent(url.pathname);
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    this.requests.push({ method: req.method ?? '', path, query: Object.fromEntries(url.searchParams), headers: req.headers, body, at: Date.now() });
    if (this.mode === 'hang') return;

    const reply = (status: number, text = ''): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    };
    const refuse = (status: number, why: string): void => {
      this.violations.push(`${req.method} ${path}: ${why}`);
      reply(status, why);
    };

    if (req.method !== 'PUT') return refuse(405, `method ${req.method} not allowed`);
    if (this.#token !== undefined && req.headers['x-consul-token'] !== this.#token) {
      return reply(403, 'Permission denied: token with AccessorID \'anonymous\' lacks permission');
    }

    const checkUpdate = /^\/v1\/agent\/check\/(pass|fail|warn)\/(.+)$/.exec(path);
    const deregister = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(path);
    if (path === '/v1/agent/service/register') {
      const problem = registrationProblem(req, body);
      if (problem) return refuse(400, `Request decode failed: ${problem}`);
      const registration = body as Record<string, unknown>;
      const id = (registration['ID'] as string | undefined) ?? (registration['Name'] as string);
      const check = registration['Check'] as Record<string, unknown> | undefined;
      this.services.set(id, registration);
      if (check) {
        const checkId = (check['CheckID'] as string | undefined) ?? `service:${id}`;
        this.checks.set(checkId, {
          serviceId: id,
          ttlMs: parseDurationMs(check['TTL'] as string),
          status: (check['Status'] as string | undefined) ?? 'critical',
          lastUpdate: Date.now(),
          notes: [],
        });
      }
      return reply(200);
    }
    if (checkUpdate) {
      const [, action, checkId] = checkUpdate as unknown as [string, string, string];
      if (raw !== '') return refuse(400, 'check update takes no body (the note goes in ?note=)');
      const check = this.checks.get(checkId);
      if (!check) return reply(404, `Unknown check ID "${checkId}". Ensure that the check ID is passed, not the check name.`);
      check.status = action === 'pass' ? 'passing' : action === 'fail' ? 'critical' : 'warning';
      check.lastUpdate = Date.now();
      if (url.searchParams.has('note')) check.notes.push(url.searchParams.get('note')!);
      return reply(200);
    }
    if (deregister) {
      const serviceId = deregister[1]!;
      if (!this.services.has(serviceId)) {
        return reply(404, `Unknown service ID "${serviceId}". Ensure that the service ID is passed, not the service name.`);
      }
      this.services.delete(serviceId);
      for (const [checkId, check] of this.checks) if (check.serviceId === serviceId) this.checks.delete(checkId);
      return reply(200);
    }
    return refuse(404, 'no such agent endpoint');
  }
}

function registrationProblem(req: IncomingMessage, body: unknown): string | undefined {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return 'Content-Type must be application/json';
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const r = body as Record<string, unknown>;
  for (const field of Object.keys(r)) if (!REGISTER_FIELDS.has(field)) return `unknown field "${field}"`;
  if (typeof r['Name'] !== 'string' || r['Name'] === '') return 'Name is required';
  if (r['ID'] !== undefined && typeof r['ID'] !== 'string') return 'ID must be a string';
  if (r['Address'] !== undefined && typeof r['Address'] !== 'string') return 'Address must be a string';
  if (r['Port'] !== undefined && (!Number.isInteger(r['Port']) || (r['Port'] as number) < 0 || (r['Port'] as number) > 65535)) {
    return 'Port must be an integer';
  }
  if (r['Tags'] !== undefined && (!Array.isArray(r['Tags']) || r['Tags'].some((t) => typeof t !== 'string'))) return 'Tags must be strings';
  if (r['Meta'] !== undefined) {
    if (r['Meta'] === null || typeof r['Meta'] !== 'object') return 'Meta must be an object';
    for (const [k, v] of Object.entries(r['Meta'] as object)) {
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(k)) return `Meta key "${k}" is invalid`;
      if (typeof v !== 'string' || v.length > 512) return `Meta value of "${k}" must be a string up to 512 chars`;
    }
  }
  const check = r['Check'];
  if (check !== undefined) {
    if (check === null || typeof check !== 'object') return 'Check must be an object';
    const c = check as Record<string, unknown>;
    for (const field of Object.keys(c)) if (!CHECK_FIELDS.has(field)) return `unknown Check field "${field}"`;
    if (typeof c['TTL'] !== 'string' || !DURATION.test(c['TTL'])) return 'Check.TTL must be a duration such as "10s"';
    if (c['Status'] !== undefined && !['passing', 'warning', 'critical'].includes(c['Status'] as string)) {
      return 'Check.Status must be passing, warning or critical';
    }
    const after = c['DeregisterCriticalServiceAfter'];
    if (after !== undefined && (typeof after !== 'string' || !DURATION.test(after))) {
      return 'Check.DeregisterCriticalServiceAfter must be a duration';
    }
    if (c['CheckID'] !== undefined && typeof c['CheckID'] !== 'string') return 'Check.CheckID must be a string';
  }
  return undefined;
}

function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(text)!;
  const factor = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[match[2] as 'ms'];
  return Number(match[1]) * factor;
}
