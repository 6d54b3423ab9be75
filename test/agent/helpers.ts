/**
 * Shared helpers of the agent tests: temp dirs, fixture slugs, desired states, HTTP calls and a
 * cleanup that kills every process group a test's agent ever recorded.
 *
 * The agent reads slugs only from its artifact store: packApp writes them into artifactRoot(),
 * which the tests' agents are given (`artifactRoot: artifactRoot()`), or which a test points at
 * an agent's default store (`<data>/artifacts`) with useArtifactRoot.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tar from 'tar';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { RunAgentOptions, RunningAgent } from '../../src/agent/agent-main.js';
import { runAgent } from '../../src/agent/agent-main.js';
import { findNginx } from '../../src/agent/nginx-plane.js';
import { isAlive } from '../../src/agent/proc-info.js';
import { sha256File } from '../../src/agent/slug-cache.js';
import type { PersistedState } from '../../src/agent/state-file.js';
import type { AgentEvent, DesiredComponent, DesiredState } from '../../src/protocol/agent-protocol.js';
import type { AgentAddress } from '../../src/targets/agent-client.js';
import { AgentClient } from '../../src/targets/agent-client.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

const dirs: string[] = [];

export function tempDir(prefix = 'rewind-agent-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** SIGKILLs every process group recorded in an agent's state file, and its nginx (tests must leave nothing behind). */
export function killRecorded(agentDir: string): void {
  for (const tier of ['front', 'back']) {
    try {
      const master = Number(readFileSync(join(agentDir, 'nginx', tier, 'nginx.pid'), 'utf8').trim());
      if (isAlive(master)) killGroup(master);
    } catch {
      /* no nginx */
    }
  }
  let state: PersistedState;
  try {
    state = JSON.parse(readFileSync(join(agentDir, 'agent-state.json'), 'utf8')) as PersistedState;
  } catch {
    return;
  }
  for (const app of state.apps) {
    for (const i of app.instances) {
      if (i.pid !== null && isAlive(i.pid, i.pidStart)) killGroup(i.pid);
    }
  }
}

/** Closes an in-process agent (stopping its instances), then kills whatever it recorded, even if close hangs. */
export async function stopAgent(agent: { close(o?: { stopInstances?: boolean }): Promise<void> } | undefined, agentDir: string): Promise<void> {
  try {
    if (agent)
      await Promise.race([
        agent.close({ stopInstances: true }),
        sleep(15_000, undefined, { ref: false }).then(() => Promise.reject(new Error('agent.close() hung'))),
      ]);
  } finally {
    killRecorded(agentDir);
  }
}

export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  artifacts = null;
}

let cleanupRegistered = false;

/** Removes the test file's temp dirs after its tests (registered once, so it runs after every agent is stopped). */
export function useTempDirs(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  afterAll(() => {
    removeTempDirs();
    cleanupRegistered = false;
  });
}

/** An in-process agent of a test file; its fields are set once its beforeAll (or beforeEach) ran. */
export interface UsedAgent {
  readonly agent: RunningAgent;
  readonly client: AgentClient;
  /** The agent's data dir (`<temp>/agent`). */
  readonly dir: string;
  /** The fixture app packed as `v1` and as `v2`. */
  readonly v1: Artifact;
  readonly v2: Artifact;
  /** Starts the agent (again, after close(): it re-adopts what runs) on the same data dir. */
  start(): Promise<void>;
  /** Closes the client and the agent; the instances keep running. */
  close(): Promise<void>;
}

export interface UseAgentOptions extends Partial<Omit<RunAgentOptions, 'dataDir'>> {
  /** A fresh agent (and data dir) for each test instead of one for the file. */
  readonly each?: boolean;
}

/**
 * Registers the hooks that run an in-process agent for the tests of this file (or describe block):
 * a temp data dir, the artifact root packApp writes to, v1 and v2 packed; afterwards the agent and
 * everything it recorded are stopped and the temp dirs removed.
 */
export function useAgent(options: UseAgentOptions = {}): UsedAgent {
  const { each = false, ...agentOptions } = options;
  let agent: RunningAgent | undefined;
  let client: AgentClient | undefined;
  let dir: string | undefined;
  let v1: Artifact | undefined;
  let v2: Artifact | undefined;
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useAgent(): ${what} is set in its beforeAll/beforeEach; use it inside a test or a later hook`);
    return value;
  };
  const used: UsedAgent = {
    get agent() {
      return ready(agent, 'agent');
    },
    get client() {
      return ready(client, 'client');
    },
    get dir() {
      return ready(dir, 'dir');
    },
    get v1() {
      return ready(v1, 'v1');
    },
    get v2() {
      return ready(v2, 'v2');
    },
    async start() {
      agent = await runAgent({ port: 0, log: false, artifactRoot: artifactRoot(), stopGraceMs: 2000, ...agentOptions, dataDir: ready(dir, 'dir') });
      client = clientOf(agent);
    },
    async close() {
      await client?.close();
      await agent?.close();
    },
  };
  const setUp = async () => {
    dir = join(tempDir(), 'agent');
    await used.start();
  };
  const tearDown = async () => {
    await client?.close();
    if (dir !== undefined) await stopAgent(agent, dir);
  };
  useTempDirs();
  beforeAll(async () => {
    [v1, v2] = await Promise.all([packApp('v1'), packApp('v2')]);
    if (!each) await setUp();
  });
  if (each) {
    beforeEach(setUp);
    afterEach(tearDown);
  } else {
    afterAll(tearDown);
  }
  return used;
}

/** The agent's data planes: who serves the proxy ports (`--proxy`). */
export type DataPlane = 'builtin' | 'nginx';

/**
 * The data planes a suite runs on, for `describe.each(dataPlanes())`: `builtin` always, `nginx`
 * when nginx is installed (CI installs it; a machine without it skips those runs, and says so).
 */
export function dataPlanes(): DataPlane[] {
  if (findNginx() !== null) return ['builtin', 'nginx'];
  console.warn('nginx is not installed: the agent suites run on the builtin data plane only');
  return ['builtin'];
}

let artifacts: string | null = null;

/** Where packApp writes slugs: give it to the agents of a test as their `artifactRoot`. */
export function artifactRoot(): string {
  return (artifacts ??= tempDir('rewind-artifacts-'));
}

/** Makes packApp write into `dir` (e.g. `<data>/artifacts`, an agent's default store). */
export function useArtifactRoot(dir: string): string {
  mkdirSync(dir, { recursive: true });
  artifacts = dir;
  return dir;
}

/** The header that authenticates a raw request to a test's agent. */
export function auth(agent: { readonly token: string }): { authorization: string } {
  return { authorization: `Bearer ${agent.token}` };
}

/** A client of a test's agent, with its token. */
export function clientOf(agent: AgentAddress): AgentClient {
  return new AgentClient(agent.url, { token: agent.token });
}

export interface Artifact {
  readonly sha256: string;
  readonly path: string;
}

/** Packs the fixture app as a slug whose `version.txt` says `version` (so each version is its own build). */
export async function packApp(version: string, extra: Record<string, string> = {}): Promise<Artifact> {
  const src = tempDir('rewind-slug-src-');
  copyFileSync(join(FIXTURES, 'app', 'server.js'), join(src, 'server.js'));
  copyFileSync(join(FIXTURES, 'worker.js'), join(src, 'worker.js'));
  writeFileSync(join(src, 'version.txt'), `${version}\n`);
  writeFileSync(join(src, 'package.json'), '{"type":"module"}\n');
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(src, name), content);
  const out = join(mkdtempSync(join(artifactRoot(), 'slug-')), `${version}.tar.gz`);
  await tar.c({ gzip: true, cwd: src, file: out, portable: true }, ['.']);
  return { sha256: await sha256File(out), path: out };
}

export function web(artifact: Artifact, overrides: Partial<DesiredComponent> = {}): DesiredComponent {
  return {
    name: 'web',
    command: 'exec node server.js',
    port: true,
    health: { path: '/health', timeoutMs: 5000, intervalMs: 50 },
    scale: 1,
    build: `B${artifact.sha256.slice(0, 10).toUpperCase()}`,
    artifact,
    ...overrides,
  };
}

export function desiredState(
  release: string,
  proxyPort: number,
  components: DesiredComponent[],
  config: Record<string, string> = {},
  app = 'shop',
): DesiredState {
  return { app, env: 'production', release, proxyPort, config, components, drainTimeoutMs: 5000 };
}

export async function deploy(agent: AgentAddress, desired: DesiredState): Promise<{ events: AgentEvent[]; result: Extract<AgentEvent, { type: 'result' }> }> {
  const client = clientOf(agent);
  try {
    const events: AgentEvent[] = [];
    const result = await client.deploy(desired, (e) => events.push(e));
    if (!result) throw new Error(`no result; events: ${JSON.stringify(events)}`);
    return { events, result };
  } finally {
    await client.close();
  }
}

export async function get(
  port: number,
  path = '/',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const res = await request(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** A WebSocket client (undici's) that sends a text message and waits for the answer. */
export async function openWebSocket(port: number, path = '/ws'): Promise<{ ask(text: string): Promise<string>; closed: Promise<number>; close(): void }> {
  const { WebSocket } = await import('undici');
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const waiting: Array<(text: string) => void> = [];
  ws.addEventListener('message', (event) => waiting.shift()?.(String(event.data)));
  const closed = new Promise<number>((resolve) => ws.addEventListener('close', (event) => resolve(event.code)));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('the WebSocket did not open')));
  });
  return {
    ask: (text) =>
      new Promise<string>((resolve, reject) => {
        waiting.push(resolve);
        ws.send(text);
        void closed.then(() => reject(new Error('the WebSocket closed')));
      }),
    closed,
    close: () => ws.close(),
  };
}

/** Reads a server-sent event stream; resolves with its `data:` lines once it ends. */
export async function readEvents(port: number, path: string, onEvent: (data: string) => void = () => {}): Promise<{ status: number; events: string[] }> {
  const res = await request(`http://127.0.0.1:${port}${path}`);
  const events: string[] = [];
  res.body.setEncoding('utf8');
  let rest = '';
  for await (const chunk of res.body) {
    rest += chunk as string;
    const parts = rest.split('\n\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      const data = part.replace(/^data: /, '');
      events.push(data);
      onEvent(data);
    }
  }
  return { status: res.statusCode, events };
}
