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
    if (agent) await Promise.race([agent.close({ stopInstances: true }), sleep(15_000, undefined, { ref: false }).then(() => Promise.reject(new Error('agent.close() hung')))]);
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

export function desiredState(release: string, proxyPort: number, components: DesiredComponent[], config: Record<string, string> = {}, app = 'shop'): DesiredState {
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

export async function get(port: number, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
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
