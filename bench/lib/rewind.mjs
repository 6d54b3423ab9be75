// A real Rewind for the benchmarks: `rewind server` on port 0 with a temp data dir, the agent it
// starts (or one started first by the benchmark), the CLI, and a way to stop all of it by pid.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { readSse } from '../../dist/contract/sse.js';
import { alive, isInterrupted, onCleanup, removeDirLater, signal, stopPid } from './cleanup.mjs';
import { BIN, ROOT, sleep } from './util.mjs';

export async function tempDir(prefix) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  removeDirLater(dir);
  return dir;
}

/** A copy of bench/app whose server.js says `version`. */
export async function benchApp(version) {
  const dir = await tempDir('rewind-bench-app-');
  await cp(join(ROOT, 'bench', 'app'), dir, { recursive: true });
  const file = join(dir, 'server.js');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/const VERSION = '[^']*'/, `const VERSION = '${version}'`));
  return dir;
}

/** This process's environment without Rewind's settings (a REWIND_TOKEN or REWIND_HTTP_PORT here must not leak in), plus `env`. */
function cleanEnv(env) {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REWIND_'))), ...env };
}

/** Spawns `node bin/rewind.js ARGS`; the child is stopped at cleanup if still running. */
function spawnRewind(args, env) {
  if (isInterrupted()) throw new Error('interrupted');
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (b) => (log = (log + b).slice(-20_000)));
  child.stderr.on('data', (b) => (log = (log + b).slice(-20_000)));
  onCleanup(() => (child.exitCode === null && child.signalCode === null ? stopPid(child.pid) : undefined));
  return { child, log: () => log };
}

export class BenchRewind {
  url = '';
  serverPid = 0;
  agentPid = 0;
  #server = null;
  #pool = null;
  #stopping = null;

  constructor(dataDir, env) {
    this.dataDir = dataDir;
    this.env = env;
  }

  /**
   * Starts the server on `dataDir` (a new temp dir by default). With `agentArgs`, the agent is
   * started first with those extra arguments (e.g. ['--proxy', 'nginx']) and the server adopts it.
   */
  static async start({ dataDir, env = {}, agentArgs } = {}) {
    const dir = dataDir ?? (await tempDir('rewind-bench-data-'));
    const r = new BenchRewind(dir, { ...env, REWIND_DATA: dir });
    onCleanup(() => r.stop());
    if (agentArgs) await r.#startAgent(agentArgs);
    await r.#startServer();
    return r;
  }

  async #startAgent(extra) {
    const { child, log } = spawnRewind(['agent', '--data', this.dataDir, '--port', '0', ...extra], this.env);
    const info = await this.#waitFor(join(this.dataDir, 'agent', 'agent.json'), child, log);
    this.agentPid = info.pid;
  }

  async #startServer() {
    const { child, log } = spawnRewind(['server', '--port', '0', '--data', this.dataDir], this.env);
    this.#server = child;
    const info = await this.#waitFor(join(this.dataDir, 'server.json'), child, log, (i) => i.pid === child.pid);
    this.url = info.url;
    this.serverPid = child.pid;
    this.agentPid = this.agentInfo().pid;
    this.#pool = new Pool(this.url, { connections: 16 });
  }

  async #waitFor(file, child, log, accept = () => true) {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`rewind ${child.spawnargs[2]} exited with ${child.exitCode}: ${log()}`);
      try {
        const info = JSON.parse(readFileSync(file, 'utf8'));
        if (accept(info)) return info;
      } catch {}
      await sleep(50);
    }
    throw new Error(`rewind ${child.spawnargs[2]} did not start within 30 s: ${log()}`);
  }

  /**
   * SIGKILLs the agent (its instances keep running) and starts a new one as the server would.
   * Resolves with the new agent's pid once agent.json names it. Should the server have started one
   * first (it starts the agent on demand), that one is taken instead of ours.
   */
  async killAndRestartAgent() {
    const old = this.agentInfo().pid;
    signal(old, 'SIGKILL');
    while (alive(old)) await sleep(1);
    const startedAt = performance.now();
    const { child, log } = spawnRewind(['agent', '--data', this.dataDir, '--port', '0'], this.env);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const info = this.agentInfo();
        if (info.pid !== old && alive(info.pid)) {
          this.agentPid = info.pid;
          return { pid: info.pid, startedAt };
        }
      } catch {}
      if (child.exitCode !== null && !/another agent/.test(log())) throw new Error(`the new agent exited with ${child.exitCode}: ${log()}`);
      await sleep(5);
    }
    throw new Error(`no agent answered within 30 s after the restart: ${log()}`);
  }

  agentInfo() {
    return JSON.parse(readFileSync(join(this.dataDir, 'agent', 'agent.json'), 'utf8'));
  }

  /** The API's credential: the admin token the server made in its data dir. */
  get authHeaders() {
    return { authorization: `Bearer ${readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim()}` };
  }

  /** One API call with keep-alive; the body is parsed JSON (or null). */
  async api(method, path, body) {
    const res = await this.#pool.request({
      method,
      path,
      headers: body === undefined ? this.authHeaders : { ...this.authHeaders, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : null };
  }

  async ok(method, path, body) {
    const r = await this.api(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Runs the CLI against this server; resolves with its parsed --json output. */
  cliJson(args) {
    return new Promise((resolveRun, reject) => {
      const child = spawn(process.execPath, [BIN, ...args, '--json'], {
        env: cleanEnv({ REWIND_HOST: this.url, REWIND_DATA: this.dataDir, NO_COLOR: '1' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stopLater = onCleanup(() => stopPid(child.pid));
      let out = '';
      let err = '';
      child.stdout.on('data', (b) => (out += b));
      child.stderr.on('data', (b) => (err += b));
      child.on('close', (code) => {
        stopLater();
        if (code !== 0) return reject(new Error(`rewind ${args.join(' ')} exited ${code}: ${err.trim()}`));
        try {
          resolveRun(JSON.parse(out));
        } catch {
          reject(new Error(`rewind ${args.join(' ')} printed no JSON: ${out.slice(0, 500)}`));
        }
      });
    });
  }

  /** `rewind deploy DIR -a APP`: { build, release, deployment }. */
  deploy(dir, app) {
    return this.cliJson(['deploy', dir, '-a', app]);
  }

  async appUrl(app, env = 'production') {
    const a = await this.ok('GET', `/api/apps/${app}`);
    return a.environments.find((e) => e.name === env).url;
  }

  /**
   * Follows a deployment's event stream until it ends: { deployment, steps, endedAt } with `steps`
   * as { at (ms since epoch), message } and `endedAt` from performance.now(). No polling.
   */
  async followDeployment(id, timeoutMs = 120_000) {
    const res = await this.#pool.request({
      method: 'GET',
      path: `/api/deployments/${id}/events`,
      headers: { ...this.authHeaders, accept: 'text/event-stream' },
      bodyTimeout: timeoutMs,
    });
    if (res.statusCode !== 200) throw new Error(`GET /api/deployments/${id}/events answered ${res.statusCode}: ${await res.body.text()}`);
    const steps = [];
    for await (const { event, data } of readSse(res.body)) {
      if (event === 'step') {
        const e = JSON.parse(data);
        steps.push({ at: Date.parse(e.at), message: e.message });
      } else if (event === 'end') {
        const endedAt = performance.now();
        res.body.destroy();
        return { deployment: JSON.parse(data), steps, endedAt };
      }
    }
    throw new Error(`the event stream of deployment ${id} ended without an end event`);
  }

  /** The agent's token (it creates agent.token in its folder; REWIND_AGENT_TOKEN overrides it). */
  agentToken() {
    return this.env.REWIND_AGENT_TOKEN || process.env.REWIND_AGENT_TOKEN || readFileSync(join(this.dataDir, 'agent', 'agent.token'), 'utf8').trim();
  }

  async agentState() {
    const res = await fetch(`${this.agentInfo().url}/v1/state`, { headers: { authorization: `Bearer ${this.agentToken()}` } });
    return res.json();
  }

  /** Pids of every instance the agent knows of, from its API, else from its state file. */
  async instancePids() {
    const pids = new Set();
    try {
      for (const a of (await this.agentState()).apps) for (const i of a.instances) if (i.pid) pids.add(i.pid);
    } catch {
      try {
        const state = JSON.parse(readFileSync(join(this.dataDir, 'agent', 'agent-state.json'), 'utf8'));
        for (const a of state.apps ?? []) for (const i of a.instances ?? []) if (i.pid) pids.add(i.pid);
      } catch {}
    }
    return pids;
  }

  /** Stops the server, the agent and every instance (by pid / process group), then removes the data dir. */
  stop() {
    // One stop for everyone: the phase's own `finally` and an interrupt's cleanup may both call it.
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop() {
    await this.#pool?.close().catch(() => {});
    const known = await this.instancePids();
    let agent = this.agentPid;
    try {
      agent = this.agentInfo().pid;
    } catch {}
    if (this.#server && this.#server.exitCode === null) await stopPid(this.#server.pid, 5000);
    if (agent) await stopPid(agent, 5000);
    // Instances run in their own process groups and outlive the agent. A rollout may have started
    // some after the snapshot above: the state file the agent wrote last and the processes whose
    // working directory is in our data dir catch those.
    for (const pid of await this.instancePids()) known.add(pid);
    for (const pid of processesUnder(this.dataDir)) known.add(pid);
    await Promise.all([...known].map((pid) => stopPid(-pid, 3000).then(() => stopPid(pid, 1000))));
    const left = [this.serverPid, agent, ...known].filter((pid) => pid && alive(pid));
    rmSync(this.dataDir, { recursive: true, force: true });
    if (left.length) throw new Error(`processes still running after stop: ${left.join(', ')}`);
  }
}

/**
 * Pids of the processes that run inside `dir` or name it on their command line (instances, builds,
 * an nginx the agent started with its prefix there): Linux /proc; empty elsewhere.
 */
export function processesUnder(dir) {
  const out = [];
  try {
    dir = realpathSync(dir);
  } catch {
    return out;
  }
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      // nginx rewrites its command line into one string ("nginx: master process … -p DIR/…"): look for the path anywhere.
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const inside = cwd === dir || cwd.startsWith(`${dir}/`) || ` ${cmdline} `.includes(` ${dir}/`) || ` ${cmdline} `.includes(` ${dir} `);
      if (Number(name) !== process.pid && inside) out.push(Number(name));
    } catch {}
  }
  return out;
}
