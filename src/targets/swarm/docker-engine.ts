/**
 * A typed client of the Docker Engine API v1.41 (Docker 20.10 and later), over a Unix socket or
 * TCP (optionally TLS), with only what a Swarm target needs. Errors are the typed ones of
 * docker-errors.ts, each one line naming the call.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { EngineUnavailableError, engineError } from './docker-errors.js';
import { type DockerHost, type DockerTlsFiles, originOf, parseDockerHost } from './docker-host.js';
import { demuxLogs, type LogLine } from './docker-logs.js';
import type { EngineInfo, EngineVersion, ImageSummary, Service, ServiceSpec, SwarmNode, Task, TaskState } from './docker-types.js';

export const DOCKER_API_VERSION = 'v1.41';

/** Label filters: `{ 'rewind.app': 'hello' }` is `label=rewind.app=hello`; `true` asks only that the label exists. */
export type LabelFilter = Readonly<Record<string, string | true>>;

export interface TaskFilter {
  readonly service?: string;
  readonly node?: string;
  readonly desiredState?: Extract<TaskState, 'running' | 'shutdown' | 'accepted'>;
  readonly labels?: LabelFilter;
}

/** What a registry wants to pull a private image (sent as X-Registry-Auth); omit it for a public or local image. */
export interface RegistryAuth {
  readonly username?: string;
  readonly password?: string;
  readonly serveraddress?: string;
  readonly identitytoken?: string;
}

export interface DockerEngineOptions {
  readonly tls?: Partial<DockerTlsFiles>;
  /** How long a call waits for the answer's headers; 30 s by default. */
  readonly timeoutMs?: number;
}

interface CallOptions {
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** Docker's filters query parameter: a JSON map of lists, URL-encoded by URLSearchParams. */
export function filtersParam(filters: Record<string, readonly string[]>): string {
  const present = Object.fromEntries(Object.entries(filters).filter(([, v]) => v.length > 0));
  return JSON.stringify(present);
}

export function labelTerms(labels: LabelFilter | undefined): string[] {
  return Object.entries(labels ?? {}).map(([k, v]) => (v === true ? k : `${k}=${v}`));
}

function taskFilters(filter: TaskFilter): Record<string, string[]> {
  return {
    service: filter.service ? [filter.service] : [],
    node: filter.node ? [filter.node] : [],
    'desired-state': filter.desiredState ? [filter.desiredState] : [],
    label: labelTerms(filter.labels),
  };
}

/** One path segment from a caller's value (an id, a name, an image reference). */
const seg = (value: string) => encodeURIComponent(value);

/** Docker decodes X-Registry-Auth as padded base64 with the URL alphabet (Go's base64.URLEncoding). */
export function registryAuthHeader(auth: RegistryAuth | undefined): Record<string, string> {
  if (!auth) return {};
  const value = Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  return { 'x-registry-auth': value };
}

function poolFor(host: DockerHost): Pool {
  const common = { connections: 8, keepAliveTimeout: 4000 };
  if (host.kind === 'unix') return new Pool(originOf(host), { ...common, socketPath: host.socketPath });
  if (!host.tls) return new Pool(originOf(host), common);
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`docker host ${host.url}: cannot read the TLS ${what} file ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  };
  const connect = { ca: read('ca', host.tls.ca), cert: read('cert', host.tls.cert), key: read('key', host.tls.key), servername: host.host };
  return new Pool(originOf(host), { ...common, connect });
}

export class DockerEngine {
  readonly host: DockerHost;
  readonly #pool: Pool;
  readonly #timeoutMs: number;

  constructor(host: DockerHost | string, options: DockerEngineOptions = {}) {
    this.host = typeof host === 'string' ? parseDockerHost(host, options.tls) : host;
    this.#pool = poolFor(this.host);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async #call(method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}): Promise<Buffer> {
    const call = `${method} ${path}`;
    const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#pool.request({
        method,
        path: `/${DOCKER_API_VERSION}${path}${query}`,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
        ...(body !== undefined ? { body } : {}),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
    } catch (err) {
      throw new EngineUnavailableError(call, this.host.url, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    const answer = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode >= 400) throw engineError(call, res.statusCode, answer.toString('utf8'));
    return answer;
  }

  async #json<T>(method: Dispatcher.HttpMethod, path: string, options?: CallOptions): Promise<T> {
    const text = (await this.#call(method, path, options)).toString('utf8');
    return (text ? JSON.parse(text) : null) as T;
  }

  /** True when the daemon answers `GET /_ping` with OK. */
  async ping(): Promise<boolean> {
    return (await this.#call('GET', '/_ping')).toString('utf8') === 'OK';
  }

  version(): Promise<EngineVersion> {
    return this.#json('GET', '/version');
  }

  /** The daemon's info; `Swarm` says whether it is in a swarm, its node id and whether it is a manager. */
  info(): Promise<EngineInfo> {
    return this.#json('GET', '/info');
  }

  /** An image known to this daemon, by tag, id or digest reference. */
  async imageInspect(ref: string): Promise<ImageSummary> {
    const raw = await this.#json<{
      Id: string;
      RepoDigests?: string[] | null;
      RepoTags?: string[] | null;
      Config?: { Labels?: Record<string, string> | null };
    }>('GET', `/images/${seg(ref)}/json`);
    return { id: raw.Id, repoDigests: raw.RepoDigests ?? [], tags: raw.RepoTags ?? [], labels: raw.Config?.Labels ?? {} };
  }

  /** The services with these labels (all of them without), with their running and desired task counts. */
  listServices(labels?: LabelFilter): Promise<Service[]> {
    return this.#json('GET', '/services', { query: { filters: filtersParam({ label: labelTerms(labels) }), status: 'true' } });
  }

  /** One service by id or name, with the `Version.Index` an update must carry. */
  inspectService(idOrName: string): Promise<Service> {
    return this.#json('GET', `/services/${seg(idOrName)}`, { query: { insertDefaults: 'false' } });
  }

  /**
   * Creates a service. Docker does not look the image up in a registry here (a client's job since
   * API 1.30): a local image works, pinned by id (`sha256:…`) or digest.
   */
  async createService(spec: ServiceSpec, auth?: RegistryAuth): Promise<{ id: string; warnings: string[] }> {
    const res = await this.#json<{ ID: string; Warnings?: string[] | null }>('POST', '/services/create', { body: spec, headers: registryAuthHeader(auth) });
    return { id: res.ID, warnings: res.Warnings ?? [] };
  }

  /**
   * Replaces a service's spec. `version` is the `Version.Index` the new spec was computed from; a
   * concurrent change in between makes Docker refuse, and this throws EngineConflictError.
   */
  async updateService(id: string, version: number, spec: ServiceSpec, auth?: RegistryAuth): Promise<{ warnings: string[] }> {
    if (!Number.isSafeInteger(version) || version < 0) throw new Error(`docker: updateService needs the service's Version.Index, not ${version}`);
    const res = await this.#json<{ Warnings?: string[] | null }>('POST', `/services/${seg(id)}/update`, {
      query: { version: String(version) },
      body: spec,
      headers: registryAuthHeader(auth),
    });
    return { warnings: res?.Warnings ?? [] };
  }

  async removeService(id: string): Promise<void> {
    await this.#call('DELETE', `/services/${seg(id)}`);
  }

  /** Tasks with their state, node and host-mode published ports (`Status.PortStatus.Ports[].PublishedPort`). */
  listTasks(filter: TaskFilter = {}): Promise<Task[]> {
    return this.#json('GET', '/tasks', { query: { filters: filtersParam(taskFilters(filter)) } });
  }

  /** The swarm's nodes: `Status.Addr` (where their tasks answer), `Status.State`, `Spec.Availability`. */
  listNodes(): Promise<SwarmNode[]> {
    return this.#json('GET', '/nodes');
  }

  /**
   * A service's recent output, not followed: the last `tail` lines of each of its tasks (all tasks,
   * running or not, in Docker's order), `since` in Unix seconds. `timestamps` starts each line with
   * Docker's RFC 3339 time; `details` then adds its attributes (`com.docker.swarm.task.id=…,…`).
   */
  async serviceLogs(id: string, options: { tail?: number; since?: number; timestamps?: boolean; details?: boolean } = {}): Promise<LogLine[]> {
    const query: Record<string, string> = { stdout: '1', stderr: '1', tail: String(options.tail ?? 100) };
    if (options.since !== undefined) query.since = String(options.since);
    if (options.timestamps) query.timestamps = '1';
    if (options.details) query.details = '1';
    return demuxLogs(await this.#call('GET', `/services/${seg(id)}/logs`, { query }));
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
